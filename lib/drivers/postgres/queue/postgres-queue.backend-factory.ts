import type { SqlDatabase } from '../../../core/connections/sql-client.js';
import { quoteIdentifier } from '../../../core/config/identifiers.js';
import { migrate } from '../../../core/migrations/migrator.js';
import { queueMigrations } from './postgres-queue.migrations.js';
import { PostgresQueueBackend } from './postgres-job.store.js';
import type { PostgresQueueSettings } from '../../../queue/runner/job-store.settings.js';

/**
 * Migrates the queue tables of `schema` (under the migration lock, so processes booting together
 * do it once) and returns a backend on them. `schema` has passed config validation.
 */
export async function openPostgresQueueBackend(
  db: SqlDatabase,
  schema: string,
  settings: Partial<PostgresQueueSettings> = {},
): Promise<PostgresQueueBackend> {
  await migrate(db, schema, queueMigrations);
  return new PostgresQueueBackend(db, schema, quoteIdentifier(schema), settings);
}
