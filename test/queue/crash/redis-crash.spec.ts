import { afterAll, describe, expect, it } from '@jest/globals';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { BullmqQueueBackend } from '../../../lib/drivers/bullmq/bullmq-queue.backend.js';
import { TEST_REDIS_URL } from '../../support/test-env.js';
import { uniquePrefix } from '../../support/unique-name.js';
import { waitFor } from '../../support/wait-for.js';
import { unlinkByPrefix } from '../../../lib/core/connections/unlink-by-prefix.js';
import { newJob } from '../bullmq-harness.js';
import type { CrashJobData } from './redis-crash.worker.js';

const JOBS = 2000;
const WORKERS = 4;
const CONCURRENCY = 10;
const KILLS = 3;
// Short leases so killed workers' jobs come back within seconds, long enough that a live worker on
// a busy 2-core machine still renews in time (BullMQ renews at half the lease).
const LEASE_MS = 2000;
const STALLED_INTERVAL_MS = 1000;

const WORKER_SCRIPT = fileURLToPath(new URL('./redis-crash.worker.ts', import.meta.url));
// The Postgres crash test's loader: runs the TypeScript sources in a plain node child, as Jest does.
const REGISTER_TS = fileURLToPath(new URL('./register-ts.mjs', import.meta.url));

/**
 * At-least-once on BullMQ: worker processes are SIGKILLed while running jobs, and replaced. Every
 * job must end completed; jobs running at a kill come back through BullMQ's stalled-job check and
 * run again, and only those may run twice.
 */
describe('BullMQ crash recovery', () => {
  const keyPrefix = uniquePrefix('redis-crash');
  const queue = 'crash';
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1, connectionName: 'ballast' });
  const backend = new BullmqQueueBackend('redis', redis, keyPrefix);
  const children = new Set<ChildProcess>();

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await backend.close();
    await unlinkByPrefix(redis, keyPrefix, 1000);
    await redis.quit();
  });

  /** Jobs each worker process is running now, from its IPC reports. */
  const running = new Map<ChildProcess, number>();

  function startWorker(): Promise<ChildProcess> {
    const child = fork(WORKER_SCRIPT, [], {
      execArgv: ['--import', REGISTER_TS],
      env: {
        ...process.env,
        CRASH_REDIS_URL: TEST_REDIS_URL,
        CRASH_KEY_PREFIX: keyPrefix,
        CRASH_QUEUE: queue,
        CRASH_CONCURRENCY: String(CONCURRENCY),
        CRASH_LEASE_MS: String(LEASE_MS),
        CRASH_STALLED_INTERVAL_MS: String(STALLED_INTERVAL_MS),
        CRASH_MAX_STALLS: String(KILLS),
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.add(child);
    running.set(child, 0);
    child.on('message', (message) => {
      if (message === 'started') running.set(child, (running.get(child) ?? 0) + 1);
      else if (message === 'finished') running.set(child, (running.get(child) ?? 0) - 1);
    });
    child.once('exit', () => {
      children.delete(child);
      running.delete(child);
    });
    return new Promise((resolve, reject) => {
      child.once('message', () => resolve(child));
      child.once('exit', (code, signal) => reject(new Error(`crash worker exited before it was ready (${code ?? signal})`)));
    });
  }

  /** The worker process running the most jobs right now, if any runs one. */
  function busiestWorker(): ChildProcess | undefined {
    let busiest: ChildProcess | undefined;
    for (const [child, count] of running) if (count > 0 && count >= (busiest ? running.get(busiest)! : 0)) busiest = child;
    return busiest;
  }

  it(`completes all ${JOBS} jobs while workers are killed mid-job`, async () => {
    const started = Date.now();
    const jobs = Array.from({ length: JOBS }, (_, i) =>
      newJob(queue, 'work', { ms: 100 + (i % 7) * 25 } satisfies CrashJobData, { removeOnComplete: false }),
    );
    const ids = (await backend.add(jobs)).map((a) => a.id);
    await Promise.all(Array.from({ length: WORKERS }, () => startWorker()));

    const killedWhileRunning: number[] = [];
    const replacements: Promise<ChildProcess>[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      // Spread the kills over the run; each hits a process that is running jobs right now.
      const progress = ((kill + 1) * JOBS) / (KILLS + 3);
      let victim: ChildProcess | undefined;
      await waitFor(
        `${Math.round(progress)} jobs completed and a worker mid-job`,
        async () => (await backend.getCounts(queue)).completed >= progress && (victim = busiestWorker()) !== undefined,
        60_000,
        20,
      );
      killedWhileRunning.push(running.get(victim!)!);
      victim!.kill('SIGKILL');
      replacements.push(startWorker());
    }
    await Promise.all(replacements);

    await waitFor(
      `all ${JOBS} jobs completed`,
      async () => (await backend.getCounts(queue)).completed === JOBS,
      90_000,
      250,
    );

    const counts = await backend.getCounts(queue);
    expect(counts).toEqual({ waiting: 0, delayed: 0, active: 0, completed: JOBS, failed: 0, cancelled: 0 });
    const runs = await redis.hgetall(`${keyPrefix}crash:runs`);
    expect(Object.keys(runs).sort()).toEqual([...ids].sort());
    const ranTwice = Object.values(runs).filter((count) => Number(count) > 1).length;
    const maxRuns = Math.max(...Object.values(runs).map(Number));
    console.log(
      `redis crash test: ${JOBS} jobs, ${KILLS} SIGKILLs of workers running ${killedWhileRunning.join('/')} jobs, ` +
        `${ranTwice} ran more than once (at most ${maxRuns} times), none lost, ${Date.now() - started} ms`,
    );
    // A kill interrupts at most the victim's running jobs; only those may run again.
    expect(ranTwice).toBeGreaterThan(0);
    expect(ranTwice).toBeLessThanOrEqual(KILLS * CONCURRENCY);

    await Promise.all(
      [...children].map(
        (child) =>
          new Promise((resolve) => {
            child.once('exit', resolve);
            child.send('stop');
          }),
      ),
    );
  }, 180_000);
});
