// One worker process of keyed-concurrency.spec.ts, run as `node --import ../crash/register-ts.mjs
// keyed-worker.ts` with its settings in the environment: a queue runner on Postgres (KEYED_PROVIDER
// postgres) or BullMQ (redis) with one handler, `keyed`, that writes `start|end <id> <key> <ns>` on
// stdout around its run, the time from the system's monotonic clock (one clock for every process).
import pg from 'pg';
import { Redis } from 'ioredis';
import { PgPoolDatabase } from '../../../lib/core/connections/pg-pool.database.js';
import { openPostgresJobStore } from '../../../lib/drivers/postgres/queue/open-postgres-job-store.js';
import { BullmqQueueBackend } from '../../../lib/drivers/bullmq/bullmq-queue.backend.js';
import { JobStoreBackend } from '../../../lib/queue/runner/job-store.backend.js';
import type { QueueBackend } from '../../../lib/queue/queue-backend.interface.js';
import type { JobContext } from '../../../lib/queue/job.interface.js';
import { testExecutor } from '../../support/test-executor.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`keyed-worker needs ${name}`);
  return value;
};

const provider = env('KEYED_PROVIDER');
const queue = env('KEYED_QUEUE');
let backend: QueueBackend;
let close: () => Promise<void>;
if (provider === 'postgres') {
  const db = new PgPoolDatabase(new pg.Pool({ connectionString: env('KEYED_DATABASE_URL'), max: 4 }), true);
  const { store, wakeup } = await openPostgresJobStore(db, env('KEYED_SCHEMA'), { durableEnqueue: true });
  backend = new JobStoreBackend('postgres', store, wakeup, 'Postgres queue', { pollIntervalMs: 200, reapIntervalMs: 200 });
  close = () => db.close();
} else {
  const redis = new Redis(env('KEYED_REDIS_URL'), { maxRetriesPerRequest: 1 });
  backend = new BullmqQueueBackend('redis', redis, env('KEYED_KEY_PREFIX'), { maxStalledCount: 5 });
  close = async () => {
    await redis.quit();
  };
}

const keyed = async (data: unknown, context: JobContext): Promise<void> => {
  const { key, ms } = data as { key: string; ms: number };
  process.stdout.write(`start ${context.id} ${key} ${process.hrtime.bigint()}\n`);
  await new Promise((resolve) => setTimeout(resolve, ms));
  process.stdout.write(`end ${context.id} ${key} ${process.hrtime.bigint()}\n`);
};

const worker = await backend.startWorker({
  executor: testExecutor(queue, { keyed }, { concurrency: Number(env('KEYED_CONCURRENCY')), leaseMs: Number(process.env.KEYED_LEASE_MS ?? 30_000) }),
  shutdownTimeoutMs: 2000,
  onEvent: () => undefined,
});
process.stdout.write('ready\n');

process.on('SIGTERM', () => {
  void worker
    .close()
    .then(() => backend.close())
    .then(close)
    .finally(() => process.exit(0));
});
