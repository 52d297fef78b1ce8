/**
 * One worker process of the crash test, run by `node --import ./register-ts.mjs` (no build step).
 * It works the schema in CRASH_SCHEMA until it is killed, writing `start <id>` when a handler starts
 * and `done <id>` when it returns. Writes to a pipe are synchronous on Linux, so every line is out
 * before a SIGKILL can land after it.
 */
import pg from 'pg';
import { PgPoolDatabase } from '../../../lib/core/connections/pg-pool.database.js';
import { openPostgresQueueBackend } from '../../../lib/drivers/postgres/queue/postgres-queue.backend-factory.js';

const schema = process.env.CRASH_SCHEMA;
const url = process.env.CRASH_DATABASE_URL;
if (!schema || !url) throw new Error('CRASH_SCHEMA and CRASH_DATABASE_URL are required');

const db = new PgPoolDatabase(new pg.Pool({ connectionString: url, max: 4 }), true);
const backend = await openPostgresQueueBackend(db, schema, {
  pollIntervalMs: 200,
  reapIntervalMs: 200,
  // No job can stall more often than the test kills workers: every one must come back.
  maxStalls: Number(process.env.CRASH_MAX_STALLS),
});
await backend.startWorker({
  queue: 'crash',
  concurrency: 8,
  shutdownTimeoutMs: 1000,
  handlers: new Map([
    [
      'work',
      {
        name: 'work',
        handle: async (_data, context) => {
          process.stdout.write(`start ${context.id}\n`);
          await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
          process.stdout.write(`done ${context.id}\n`);
          return context.attempt;
        },
      },
    ],
  ]),
  onEvent: () => undefined,
});
process.stdout.write('ready\n');
