// One worker process of the multi-process benches (queue-keyed.ts, queue-scale.ts), started by the
// bench with its settings in the environment: a queue runner on Postgres or BullMQ with one no-op
// handler, `job`, that sends the bench `[id, key, ms]` over IPC when it runs (ms on the system's
// monotonic clock; key from the job's data).
import pg from 'pg';
import { Redis } from 'ioredis';
import { PgPoolDatabase } from '../../lib/core/connections/pg-pool.database.js';
import { openPostgresJobStore } from '../../lib/drivers/postgres/queue/open-postgres-job-store.js';
import { BullmqQueueBackend } from '../../lib/drivers/bullmq/bullmq-queue.backend.js';
import { JobStoreBackend } from '../../lib/queue/runner/job-store.backend.js';
import { JobExecutor } from '../../lib/queue/job.executor.js';
import { moduleJobDefaults } from '../../lib/queue/job-options.validation.js';
import type { QueueBackend } from '../../lib/queue/queue-backend.interface.js';
import { Logger } from '@nestjs/common';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`queue-worker.process needs ${name}`);
  return value;
};

const queue = env('BENCH_WORKER_QUEUE');
const concurrency = Number(env('BENCH_WORKER_CONCURRENCY'));
let backend: QueueBackend;
if (env('BENCH_WORKER_PROVIDER') === 'postgres') {
  const db = new PgPoolDatabase(new pg.Pool({ connectionString: env('BENCH_WORKER_DATABASE_URL'), max: 4 }), true);
  const { store, wakeup } = await openPostgresJobStore(db, env('BENCH_WORKER_SCHEMA'), { durableEnqueue: true });
  backend = new JobStoreBackend('postgres', store, wakeup, 'Postgres queue', {});
} else {
  backend = new BullmqQueueBackend('redis', new Redis(env('BENCH_WORKER_REDIS_URL'), { maxRetriesPerRequest: null }), env('BENCH_WORKER_KEY_PREFIX'), {});
}

// Runs are reported in batches, so IPC costs the handlers little.
let pending: Array<[string, string, number]> = [];
const flush = setInterval(() => {
  if (pending.length === 0) return;
  process.send?.(pending);
  pending = [];
}, 20);
flush.unref();

const handler = {
  queue,
  name: 'job',
  concurrency,
  defaults: moduleJobDefaults(30_000),
  schedule: undefined,
  rateLimit: undefined,
  maxRetryLater: 25,
  location: 'bench.job',
  invoke: (data: unknown, context: { id: string }) => {
    pending.push([context.id, (data as { key?: string }).key ?? '', Number(process.hrtime.bigint() / 1000n) / 1000]);
  },
};
await backend.startWorker({
  executor: new JobExecutor(queue, new Map([['job', handler]]), new Logger('Ballast')),
  shutdownTimeoutMs: 2000,
  onEvent: () => undefined,
});
process.send?.('ready');
process.on('disconnect', () => process.exit(0));
