import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PgPoolDatabase } from '../../../lib/core/connections/pg-pool.database.js';
import { BullmqQueueBackend } from '../../../lib/drivers/bullmq/bullmq-queue.backend.js';
import { openPostgresJobStore } from '../../../lib/drivers/postgres/queue/open-postgres-job-store.js';
import { JobStoreBackend } from '../../../lib/queue/runner/job-store.backend.js';
import type { QueueBackend } from '../../../lib/queue/queue-backend.interface.js';
import { startPrivatePostgres } from '../../support/private-postgres.js';
import { startPrivateRedis } from '../../support/private-redis.js';
import { uniquePrefix, uniqueSchema } from '../../support/unique-name.js';
import { waitFor } from '../../support/wait-for.js';
import { newJob } from '../postgres-queue.harness.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** A store of the test's own that it can restart, stop and start, and a producer on it. */
interface Store {
  /** Env for the worker app: which provider, where. */
  env: Record<string, string>;
  /** Who logs the worker's outage lines. */
  subject: string;
  producer: QueueBackend;
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

async function postgresStore(): Promise<Store> {
  const server = await startPrivatePostgres('restart');
  const schema = uniqueSchema('restart');
  const pool = new pg.Pool({ connectionString: server.url, max: 2 });
  pool.on('error', () => undefined);
  const db = new PgPoolDatabase(pool, true);
  const producer = await openSqlRunner(db, schema);
  return {
    env: { DATABASE_URL: server.url, BALLAST_SCHEMA: schema },
    subject: `Postgres queue (schema "${schema}")`,
    producer,
    restart: () => server.restart(),
    stop: () => server.stop(),
    start: () => server.start(),
    destroy: async () => {
      await producer.close();
      await db.close();
      await server.destroy();
    },
  };
}

async function redisStore(): Promise<Store> {
  const server = await startPrivateRedis();
  const keyPrefix = uniquePrefix('restart');
  const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  const producer = new BullmqQueueBackend('redis', client, keyPrefix);
  return {
    env: { QUEUE_PROVIDER: 'redis', CACHE_PROVIDER: 'redis', REDIS_URL: server.url, BALLAST_KEY_PREFIX: keyPrefix },
    subject: `Redis queue (prefix "${keyPrefix}queue")`,
    producer,
    // Nothing is kept on disk: a restart is a crash that loses the jobs not yet run (the test only
    // restarts with none waiting).
    restart: () => server.restart(),
    stop: () => server.kill(),
    start: () => server.restart(),
    destroy: async () => {
      await producer.close();
      client.disconnect();
      await server.stop();
    },
  };
}

/**
 * A worker-only process (Nest application context, no HTTP server) must outlive its store: a
 * restart, and a longer outage, of a server of this test's own. On Postgres it used to exit with
 * code 0 about 2 s after a restart, and jobs enqueued afterwards were never run. It must keep
 * retrying, log the outage once when it starts and once when it ends, and run everything enqueued.
 */
describe.each([
  ['postgres', postgresStore],
  ['redis', redisStore],
] as const)('a worker-only process through %s restarts and outages', (name, makeStore) => {
  let store: Store;
  let child: ChildProcess;
  const done = new Map<number, number>();
  const lines: string[] = [];
  let exit: { code: number | null; signal: string | null } | undefined;

  beforeAll(async () => {
    store = await makeStore();
    child = spawn(process.execPath, ['--import', here('../crash/register-ts.mjs'), here('./worker-app.ts')], {
      env: { ...process.env, ...store.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.once('exit', (code, signal) => (exit = { code, signal }));
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        const match = /^job \S+ (\d+)$/.exec(line);
        if (match) done.set(Number(match[1]), Date.now());
      });
    }
    await waitFor('the worker app to boot', () => lines.includes('ready') || exit, 60_000, 20);
    expect(exit).toBeUndefined();
  }, 120_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    await store?.destroy();
  }, 60_000);

  /** Enqueues jobs n..n+count-1, retrying while the store is away; `jobId` makes a retry harmless. */
  async function enqueue(from: number, count: number): Promise<void> {
    for (let n = from; n < from + count; n++) {
      await waitFor(`job ${n} to be enqueued`, async () => {
        await store.producer.add([newJob({ n }, { queue: 'fault', name: 'tick', jobId: `job-${n}` })]);
        return true;
      }, 30_000, 50);
    }
  }

  const outageLines = () => lines.filter((line) => line.includes(store.subject) && line.includes('retrying with backoff'));
  const recoveryLines = () => lines.filter((line) => line.includes(store.subject) && line.includes('the store answers again after'));
  const firstDoneFrom = (n: number) => Math.min(...[...done].filter(([k]) => k >= n).map(([, at]) => at));

  it('runs every job through a restart and an outage, logs each outage twice, and stops only when told', async () => {
    await enqueue(0, 50);
    await waitFor('the first 50 jobs', () => done.size === 50, 30_000);

    // A restart: every connection is cut at once.
    await store.restart();
    const restarted = Date.now();
    await enqueue(50, 50);
    await waitFor('the 50 jobs enqueued after the restart', () => done.size === 100, 30_000);
    const resumedAfterRestart = firstDoneFrom(50) - restarted;
    expect(exit).toBeUndefined();

    // A longer outage: the store is gone until the worker has noticed and said so.
    const outagesBefore = outageLines().length;
    const recoveriesBefore = recoveryLines().length;
    await store.stop();
    const stopped = Date.now();
    await waitFor('the worker to log the outage', () => outageLines().length > outagesBefore, 30_000);
    // Its retries keep going, quietly, while they back off to their longest step.
    await waitFor('the backoff to reach its longest step', () => Date.now() - stopped > 4000, 10_000, 100);
    expect(exit).toBeUndefined();
    await store.start();
    const started = Date.now();
    await enqueue(100, 50);
    await waitFor('the 50 jobs enqueued after the outage', () => done.size === 150, 30_000);
    const resumedAfterOutage = firstDoneFrom(100) - started;
    await waitFor('the worker to log the recovery', () => recoveryLines().length > recoveriesBefore, 10_000);

    console.log(
      `worker-only process on ${name}: the first job enqueued after a restart ran ${resumedAfterRestart} ms after the server was back; ` +
        `after a ${started - stopped} ms outage, ${resumedAfterOutage} ms after it was back`,
    );
    expect(exit).toBeUndefined();
    // The outage: one line when it began, one when it ended, however many retries in between.
    expect(outageLines().length - outagesBefore).toBe(1);
    expect(recoveryLines().length - recoveriesBefore).toBe(1);
    // Every outage logged (the restart may have been too quick to fail a call) ended with a recovery line.
    expect(recoveryLines().length).toBe(outageLines().length);
    expect([...done.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));

    // A worker process ends when the app is closed (Nest's shutdown hook closes it, then re-raises the signal).
    child.kill('SIGTERM');
    await waitFor('the worker app to exit', () => exit, 20_000);
    expect(exit!.signal === 'SIGTERM' || exit!.code === 0).toBe(true);
  }, 180_000);
});

/** The SQL runner on the Postgres job store of `schema`, as the module builds it. */
async function openSqlRunner(db: Parameters<typeof openPostgresJobStore>[0], schema: string): Promise<JobStoreBackend> {
  const { store, wakeup } = await openPostgresJobStore(db, schema, { durableEnqueue: true });
  return new JobStoreBackend('postgres', store, wakeup, `Postgres queue (schema "${schema}")`);
}
