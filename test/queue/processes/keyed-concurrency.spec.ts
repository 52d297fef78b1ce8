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
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** One run of a `keyed` job as its worker process reported it (monotonic ns); a killed run has no end. */
interface Run {
  id: string;
  key: string;
  start: bigint;
  end?: bigint;
  worker: number;
}

/**
 * Per-key concurrency across processes: four worker processes share one queue of 20 keys, limit 2
 * each. Each handler records its start and end on the system's monotonic clock (one clock for all
 * the processes); from those records, at no instant do more than 2 jobs of one key run, every job
 * runs, and the limit is reached (so the check could have failed). Then the same with one worker
 * SIGKILLed mid-run: its slots come back when its leases run out, and the limit still holds.
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

  /** Starts the worker processes on `queue`; resolves once all are ready, with the runs they report. */
  async function startWorkers(queue: string, leaseMs: number): Promise<{ runs: Run[]; workers: ChildProcess[] }> {
    const runs: Run[] = [];
    const workers: ChildProcess[] = [];
    let ready = 0;
    for (let i = 0; i < PROCESSES; i++) {
      const child = spawn(process.execPath, ['--import', here('../crash/register-ts.mjs'), here('./keyed-worker.ts')], {
        env: {
          ...process.env,
          KEYED_PROVIDER: provider,
          KEYED_QUEUE: queue,
          KEYED_CONCURRENCY: '10',
          KEYED_LEASE_MS: String(leaseMs),
          KEYED_SCHEMA: schema,
          KEYED_DATABASE_URL: TEST_DATABASE_URL,
          KEYED_REDIS_URL: TEST_REDIS_URL,
          KEYED_KEY_PREFIX: keyPrefix,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      workers.push(child);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const [kind, id, key, at] = line.split(' ');
        if (kind === 'ready') ready++;
        else if (kind === 'start') runs.push({ id: id!, key: key!, start: BigInt(at!), worker: i });
        else if (kind === 'end') {
          const run = runs.find((r) => r.id === id && r.worker === i && r.end === undefined);
          if (run) run.end = BigInt(at!);
        }
      });
    }
    await waitFor('the worker processes to start', () => ready === PROCESSES, 30_000, 20);
    return { runs, workers };
  }

  /** The most runs of one key in progress at once, per key; a run with no end lasts until `open`. */
  function mostAtOnce(runs: readonly Run[], open: bigint): Map<string, number> {
    const most = new Map<string, number>();
    for (const run of runs) {
      const atOnce = runs.filter((other) => other.key === run.key && other.start <= run.start && (other.end ?? open) > run.start).length;
      most.set(run.key, Math.max(most.get(run.key) ?? 0, atOnce));
    }
    return most;
  }

  function jobsFor(queue: string, perKey: number, ms: (k: number, j: number) => number): NewJob[] {
    const jobs: NewJob[] = [];
    for (let k = 0; k < KEYS; k++) {
      for (let j = 0; j < perKey; j++) jobs.push(newJob(queue, { key: `account-${k}`, ms: ms(k, j) }, `account-${k}`));
    }
    return jobs;
  }

  it(`never runs more than ${LIMIT} jobs of one key at once, and runs every job once`, async () => {
    const { runs, workers } = await startWorkers('keyed', 30_000);
    const jobs = jobsFor('keyed', 8, (k, j) => 5 + ((k * 7 + j * 3) % 20));
    await enqueue(provider, schema, keyPrefix, jobs);
    await waitFor('every job to run', () => runs.filter((run) => run.end !== undefined).length >= jobs.length, 60_000, 20);
    expect(runs).toHaveLength(jobs.length);
    expect(new Set(runs.map((run) => run.id)).size).toBe(jobs.length);
    const most = mostAtOnce(runs, process.hrtime.bigint());
    expect(most.size).toBe(KEYS);
    expect(Math.max(...most.values())).toBe(LIMIT);
    for (const worker of workers) worker.kill('SIGTERM');
  }, 120_000);

  it('gives the slots of a worker killed mid-run back when its leases run out, the limit holding throughout', async () => {
    const { runs, workers } = await startWorkers('keyed-crash', 2000);
    const jobs = jobsFor('keyed-crash', 4, () => 250);
    await enqueue(provider, schema, keyPrefix, jobs);
    // Killed while it runs jobs (so it holds slots), before the queue is half done.
    await waitFor('the first worker to run jobs', () => runs.some((run) => run.worker === 0 && run.end === undefined), 30_000, 5);
    workers[0]!.kill('SIGKILL');
    const killedAt = process.hrtime.bigint();
    const held = runs.filter((run) => run.worker === 0 && run.end === undefined).map((run) => run.id);
    expect(held.length).toBeGreaterThan(0);
    const done = (id: string) => runs.some((run) => run.id === id && run.end !== undefined);
    await waitFor('every job to complete somewhere', () => jobs.every((job) => done(job.jobId!)), 60_000, 20);
    // The killed worker's runs ended when it died; the jobs it held ran again elsewhere, after it.
    const settled = runs.map((run) => (run.worker === 0 && run.end === undefined ? { ...run, end: killedAt } : run));
    expect(Math.max(...mostAtOnce(settled, process.hrtime.bigint()).values())).toBeLessThanOrEqual(LIMIT);
    for (const id of held) expect(runs.some((run) => run.id === id && run.worker !== 0 && run.end !== undefined)).toBe(true);
    for (const worker of workers.slice(1)) worker.kill('SIGTERM');
  }, 120_000);
});

let counter = 0;

function newJob(queue: string, data: { key: string; ms: number }, key: string): NewJob {
  return {
    queue,
    name: 'keyed',
    data,
    runAt: undefined,
    priority: 0,
    attempts: 1,
    backoff: { type: 'fixed', delay: 0, jitter: 0 },
    // Known ids, so the test can tell which jobs the killed worker held.
    jobId: `${queue}-${++counter}`,
    dedupe: null,
    leaseMs: 2000,
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
