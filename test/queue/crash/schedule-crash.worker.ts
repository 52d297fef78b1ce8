/**
 * One replica of the schedule crash test, run by `node --import ./register-ts.mjs` (no build step):
 * a SQL runner with a worker on queue `beat` of the schema in CRASH_SCHEMA, so it runs the
 * scheduler too, until it is killed. Writes `tick <ms>` when a tick job starts.
 */
import pg from 'pg';
import { PgPoolDatabase } from '../../../lib/core/connections/pg-pool.database.js';
import { openPostgresJobStore } from '../../../lib/drivers/postgres/queue/open-postgres-job-store.js';
import { JobStoreBackend } from '../../../lib/queue/runner/job-store.backend.js';
import { testExecutor } from '../../support/test-executor.js';

const schema = process.env.CRASH_SCHEMA;
const url = process.env.CRASH_DATABASE_URL;
if (!schema || !url) throw new Error('CRASH_SCHEMA and CRASH_DATABASE_URL are required');

const db = new PgPoolDatabase(new pg.Pool({ connectionString: url, max: 4 }), true);
const { store, wakeup } = await openPostgresJobStore(db, schema, { durableEnqueue: true });
const backend = new JobStoreBackend('postgres', store, wakeup, `Postgres queue (schema "${schema}")`, { pollIntervalMs: 100 });
await backend.startWorker({
  executor: testExecutor('beat', {
    beat: (_data, context) => {
      process.stdout.write(`tick ${context.scheduledFor?.getTime()}\n`);
    },
  }),
  shutdownTimeoutMs: 1000,
  onEvent: () => undefined,
});
process.stdout.write('ready\n');
