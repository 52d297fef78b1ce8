import type { SqlDatabase } from '../../../core/connections/sql-client.js';
import { quoteIdentifier } from '../../../core/config/identifiers.js';
import { migrate } from '../../../core/migrations/migrator.js';
import type { JobStore, JobWakeup } from '../../../queue/job-store.interface.js';
import { queueChannel } from './postgres-queue.channel.js';
import { queueMigrations } from './postgres-queue.migrations.js';
import { PostgresJobStore } from './postgres-job.store.js';
import { PostgresJobWakeup } from './postgres-job.wakeup.js';
import { queueSql } from './postgres-queue.sql.js';

/**
 * Migrates the queue tables of `schema` (under the migration lock, so processes booting together
 * do it once) and returns the job store on them with its LISTEN/NOTIFY wake-up. `schema` has passed
 * config validation.
 */
export async function openPostgresJobStore(
  db: SqlDatabase,
  schema: string,
  options: { durableEnqueue: boolean },
): Promise<{ store: JobStore; wakeup: JobWakeup }> {
  await migrate(db, schema, queueMigrations);
  const channel = queueChannel(schema);
  return {
    store: new PostgresJobStore(db, queueSql(quoteIdentifier(schema)), channel, schema, options.durableEnqueue),
    wakeup: new PostgresJobWakeup(db, channel),
  };
}
