import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { PgPoolDatabase } from '../../lib/core/connections/pg-pool.database.js';
import { openPostgresJobStore } from '../../lib/drivers/postgres/queue/open-postgres-job-store.js';
import { BullmqQueueBackend } from '../../lib/drivers/bullmq/bullmq-queue.backend.js';
import { JobStoreBackend } from '../../lib/queue/runner/job-store.backend.js';
import type { QueueBackend } from '../../lib/queue/queue-backend.interface.js';
import { benchJob } from './bench-job.js';
import { until } from '../support/until.js';

/** One keyed scenario's result. */
export interface KeyedResult {
  provider: 'postgres' | 'bullmq';
  scenario: string;
  jobs: number;
  keys: number;
  /** From resuming the queue to the last handler start, ms. */
  drainMs: number;
  /** When the last job of a key other than the hot one started, ms after resuming (hot scenarios). */
  othersDoneMs?: number;
}

/** A scenario: how many jobs per key (`hot` first when there is one), limit 1 per key, or no keys at all. */
interface Scenario {
  name: string;
  perKey: number[];
  keyed: boolean;
}

const QUEUE = 'bench-keyed';

/**
 * The keyed rows of `bench:queue`: `processes` worker processes (each concurrency 10) drain one
 * queue, filled while paused and then resumed (the clock starts at the resume):
 * - `unkeyed`: JOBS jobs without a key, the baseline of the same run;
 * - `100 keys`: JOBS jobs over 100 keys, limit 1 per key;
 * - `hot key`: one key holds 90% of the jobs, 99 keys the rest, limit 1: `othersDoneMs` (when the
 *   other keys' last job started) against `others alone` (the same 99 keys' jobs without the hot key)
 *   says how much one tenant's backlog delays the rest.
 */
export async function measureKeyed(
  provider: 'postgres' | 'bullmq',
  connection: { databaseUrl: string; redisUrl: string; schema: string; keyPrefix: string },
  jobs: number,
  processes: number,
): Promise<KeyedResult[]> {
  const hot = Math.round(jobs * 0.9);
  const scenarios: Scenario[] = [
    { name: 'unkeyed', perKey: [jobs], keyed: false },
    { name: '100 keys, limit 1', perKey: spread(jobs, 100), keyed: true },
    { name: 'hot key (90%) + 99 keys, limit 1', perKey: [hot, ...spread(jobs - hot, 99)], keyed: true },
    { name: 'others alone: the 99 keys, limit 1', perKey: [0, ...spread(jobs - hot, 99)], keyed: true },
  ];
  // BENCH_KEYED_ONLY: scenario name prefixes to run (all by default).
  const only = process.env.BENCH_KEYED_ONLY?.split(',').map((s) => s.trim());
  scenarios.splice(0, scenarios.length, ...scenarios.filter((s) => !only || only.some((prefix) => s.name.startsWith(prefix))));
  const results: KeyedResult[] = [];
  const children: ChildProcess[] = [];
  const starts: Array<[string, number]> = [];
  try {
    const workerPath = fileURLToPath(new URL('./queue-worker.process.js', import.meta.url));
    let ready = 0;
    for (let i = 0; i < processes; i++) {
      const child = fork(workerPath, [], {
        env: {
          ...process.env,
          BENCH_WORKER_PROVIDER: provider,
          BENCH_WORKER_QUEUE: QUEUE,
          BENCH_WORKER_CONCURRENCY: '10',
          BENCH_WORKER_DATABASE_URL: connection.databaseUrl,
          BENCH_WORKER_SCHEMA: connection.schema,
          BENCH_WORKER_REDIS_URL: connection.redisUrl,
          BENCH_WORKER_KEY_PREFIX: connection.keyPrefix,
        },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      child.on('message', (message) => {
        if (message === 'ready') ready++;
        else for (const [, key, at] of message as Array<[string, string, number]>) starts.push([key, at]);
      });
      children.push(child);
    }
    const { backend, close } = await open(provider, connection);
    try {
      await until('the worker processes to start', () => ready === processes, 60_000);
      for (const scenario of scenarios) {
        const batch = scenario.perKey.flatMap((count, k) => Array.from({ length: count }, () => keyedJob(scenario.keyed ? `key-${k}` : 'none', scenario.keyed)));
        // Interleaved as tenants would add them, so a key's jobs are not one block of the queue.
        batch.sort((a, b) => (a.data as { n: number }).n - (b.data as { n: number }).n);
        await backend.pause(QUEUE);
        for (let i = 0; i < batch.length; i += 1000) await backend.add(batch.slice(i, i + 1000));
        starts.length = 0;
        const resumed = monotonicMs();
        await backend.resume(QUEUE);
        await until(`every job of ${scenario.name} to start`, () => starts.length >= batch.length, 300_000);
        const others = starts.filter(([key]) => key !== 'key-0');
        results.push({
          provider,
          scenario: scenario.name,
          jobs: batch.length,
          keys: scenario.keyed ? scenario.perKey.filter((n) => n > 0).length : 0,
          drainMs: Math.max(...starts.map(([, at]) => at)) - resumed,
          ...(scenario.name.startsWith('hot') || scenario.name.startsWith('others')
            ? { othersDoneMs: Math.max(...others.map(([, at]) => at)) - resumed }
            : {}),
        });
      }
    } finally {
      await close();
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
  }
  return results;
}


/** A job of `key` (limit 1), or one without a key that reports `key` all the same. */
function keyedJob(key: string, keyed: boolean) {
  // A random sort position interleaves the keys; `key` is what the worker reports.
  return benchJob(QUEUE, { key, n: Math.random() }, keyed ? { key, limit: 1 } : null);
}

function spread(total: number, keys: number): number[] {
  return Array.from({ length: keys }, (_, k) => Math.floor(total / keys) + (k < total % keys ? 1 : 0));
}

async function open(
  provider: 'postgres' | 'bullmq',
  connection: { databaseUrl: string; redisUrl: string; schema: string; keyPrefix: string },
): Promise<{ backend: QueueBackend; close: () => Promise<void> }> {
  if (provider === 'postgres') {
    const db = new PgPoolDatabase(new pg.Pool({ connectionString: connection.databaseUrl, max: 2 }), true);
    const { store, wakeup } = await openPostgresJobStore(db, connection.schema, { durableEnqueue: true });
    const backend = new JobStoreBackend('postgres', store, wakeup, 'Postgres queue', {});
    return { backend, close: async () => (await backend.close(), await db.close()) };
  }
  const redis = new Redis(connection.redisUrl);
  const backend = new BullmqQueueBackend('redis', redis, connection.keyPrefix, {});
  return { backend, close: async () => (await backend.close(), void (await redis.quit())) };
}

function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

