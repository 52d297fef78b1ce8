import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { PgPoolDatabase } from '../../../lib/core/connections/pg-pool.database.js';
import { openPostgresJobStore } from '../../../lib/drivers/postgres/queue/open-postgres-job-store.js';
import { BullmqQueueBackend } from '../../../lib/drivers/bullmq/bullmq-queue.backend.js';
import { unlinkByPrefix } from '../../../lib/core/connections/unlink-by-prefix.js';
import type { NewJob } from '../../../lib/queue/new-job.interface.js';
import { dropSchemaOnServer } from '../../support/backends.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../support/test-env.js';
import { uniquePrefix, uniqueSchema } from '../../support/unique-name.js';
import { waitFor } from '../../support/wait-for.js';

const PROCESSES = 4;
const KEYS = 20;
const LIMIT = 2;
const JOBS_PER_KEY = 8;
const QUEUE = 'keyed';
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

interface Run {
  id: string;
  key: string;
  start: bigint;
  end: bigint;
}

/**
 * Per-key concurrency across processes: four worker processes share one queue of 20 keys, limit 2
 * each. Each handler records its start and end on the system's monotonic clock (one clock for all
 * the processes); from those records, at no instant do more than 2 jobs of one key run, every job
 * runs once, and the limit is reached (so the check could have failed).
 */
describe.each(['postgres', 'redis'] as const)('concurrency keys across %s worker processes', (provider) => {
  const schema = uniqueSchema('keyedproc');
  const keyPrefix = uniquePrefix('keyedproc');
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    if (provider === 'postgres') await dropSchemaOnServer(schema);
    else {
      const redis = new Redis(TEST_REDIS_URL);
      await unlinkByPrefix(redis, keyPrefix, 1000);
      await redis.quit();
    }
  });

  it(`never runs more than ${LIMIT} jobs of one key at once, and runs every job once`, async () => {
    const runs = new Map<string, Partial<Run>>();
    let ready = 0;
    for (let i = 0; i < PROCESSES; i++) {
      const child = spawn(process.execPath, ['--import', here('../crash/register-ts.mjs'), here('./keyed-worker.ts')], {
        env: {
          ...process.env,
          KEYED_PROVIDER: provider,
          KEYED_QUEUE: QUEUE,
          KEYED_CONCURRENCY: '10',
          KEYED_SCHEMA: schema,
          KEYED_DATABASE_URL: TEST_DATABASE_URL,
          KEYED_REDIS_URL: TEST_REDIS_URL,
          KEYED_KEY_PREFIX: keyPrefix,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const [kind, id, key, at] = line.split(' ');
        if (kind === 'ready') ready++;
        if (kind !== 'start' && kind !== 'end') return;
        const run = runs.get(id!) ?? { id, key };
        // A second start of one job would be a run twice: kept apart so the count below sees it.
        if (kind === 'start' && run.start !== undefined) runs.set(`${id}#again`, { id, key, start: BigInt(at!) });
        else {
          run[kind] = BigInt(at!);
          runs.set(id!, run);
        }
      });
    }
    await waitFor('the worker processes to start', () => ready === PROCESSES, 30_000, 20);

    const jobs: NewJob[] = [];
    for (let k = 0; k < KEYS; k++) {
      for (let j = 0; j < JOBS_PER_KEY; j++) {
        jobs.push(newJob({ key: `account-${k}`, ms: 5 + ((k * 7 + j * 3) % 20) }, `account-${k}`));
      }
    }
    await enqueue(provider, schema, keyPrefix, jobs);

    await waitFor('every job to run', () => [...runs.values()].filter((run) => run.end !== undefined).length >= jobs.length, 60_000, 20);
    const done = [...runs.values()] as Run[];
    expect(done).toHaveLength(jobs.length);
    const most = new Map<string, number>();
    for (const run of done) {
      const atOnce = done.filter((other) => other.key === run.key && other.start <= run.start && other.end > run.start).length;
      most.set(run.key, Math.max(most.get(run.key) ?? 0, atOnce));
    }
    expect(most.size).toBe(KEYS);
    expect(Math.max(...most.values())).toBe(LIMIT);
  }, 120_000);
});

function newJob(data: { key: string; ms: number }, key: string): NewJob {
  return {
    queue: QUEUE,
    name: 'keyed',
    data,
    runAt: undefined,
    priority: 0,
    attempts: 1,
    backoff: { type: 'fixed', delay: 0, jitter: 0 },
    jobId: undefined,
    dedupe: null,
    leaseMs: 30_000,
    runTimeoutMs: null,
    removeOnComplete: true,
    removeOnFail: false,
    concurrency: { key, limit: LIMIT },
  };
}

/** Adds the jobs in one call, as an app's `addBulk` would. */
async function enqueue(provider: 'postgres' | 'redis', schema: string, keyPrefix: string, jobs: NewJob[]): Promise<void> {
  if (provider === 'postgres') {
    const db = new PgPoolDatabase(new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 }), true);
    try {
      const { store } = await openPostgresJobStore(db, schema, { durableEnqueue: true });
      await store.enqueue(jobs.map((job) => ({ ...job, json: JSON.stringify(job.data) })));
    } finally {
      await db.close();
    }
    return;
  }
  const redis = new Redis(TEST_REDIS_URL);
  const backend = new BullmqQueueBackend('redis', redis, keyPrefix, {});
  try {
    await backend.add(jobs);
  } finally {
    await backend.close();
    await redis.quit();
  }
}
