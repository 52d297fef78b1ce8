/**
 * One worker process of the crash test, run by `node --import ./register-ts.mjs` (no build step).
 * It works the schema in CRASH_SCHEMA until it is killed, writing `start <id>` when a handler starts
 * and `done <id>` when it returns. Writes to a pipe are synchronous on Linux, so every line is out
 * before a SIGKILL can land after it.
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
const backend = new JobStoreBackend('postgres', store, wakeup, `Postgres queue (schema "${schema}")`, {
  pollIntervalMs: 200,
  reapIntervalMs: 200,
  // No job can stall more often than the test kills workers: every one must come back.
  maxStalls: Number(process.env.CRASH_MAX_STALLS),
});
await backend.startWorker({
  executor: testExecutor(
    'crash',
    {
      work: async (_data, context) => {
        process.stdout.write(`start ${context.id}\n`);
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
        process.stdout.write(`done ${context.id}\n`);
        return context.attempt;
      },
    },
    { concurrency: 8 },
  ),
  shutdownTimeoutMs: 1000,
  onEvent: () => undefined,
});
process.stdout.write('ready\n');
