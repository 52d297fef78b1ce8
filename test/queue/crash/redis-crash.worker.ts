// A worker process for redis-crash.spec.ts, run as `node --import ./register-ts.mjs redis-crash.worker.ts`
// with its settings in the environment. It reports on its IPC channel and is meant to be SIGKILLed.
import { Redis } from 'ioredis';
import { BullmqQueueBackend } from '../../../lib/drivers/bullmq/bullmq-queue.backend.js';
import type { JobContext } from '../../../lib/queue/job.interface.js';
import { testExecutor } from '../../support/test-executor.js';

export interface CrashJobData {
  ms: number;
}

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`redis-crash.worker needs ${name}`);
  return value;
};

const keyPrefix = env('CRASH_KEY_PREFIX');
const queue = env('CRASH_QUEUE');
const leaseMs = Number(env('CRASH_LEASE_MS'));
const runsKey = `${keyPrefix}crash:runs`;

const redis = new Redis(env('CRASH_REDIS_URL'), { maxRetriesPerRequest: 1, connectionName: 'ballast' });
const backend = new BullmqQueueBackend('redis', redis, keyPrefix, {
  stalledIntervalMs: Number(env('CRASH_STALLED_INTERVAL_MS')),
  // Kills may hit one job more than once (at most once per kill); it must come back every time, not fail.
  maxStalledCount: Number(env('CRASH_MAX_STALLS')),
});

const work = async (data: unknown, context: JobContext): Promise<string> => {
  // Counted when the handler starts: a job killed mid-run and run again counts twice.
  await redis.hincrby(runsKey, context.id, 1);
  // Tells the test this process is mid-job, so its kill lands on running jobs.
  process.send?.('started');
  await new Promise((resolve) => setTimeout(resolve, (data as CrashJobData).ms));
  process.send?.('finished');
  return context.id;
};

const worker = await backend.startWorker({
  executor: testExecutor(queue, { work }, { concurrency: Number(env('CRASH_CONCURRENCY')), leaseMs }),
  shutdownTimeoutMs: 5000,
  onEvent: () => undefined,
});
process.send?.('ready');

async function stop(): Promise<void> {
  await worker.close();
  await backend.close();
  await redis.quit();
  process.exit(0);
}

process.on('message', (message) => {
  if (message === 'stop') void stop();
});
// The test process went away: do not linger.
process.on('disconnect', () => process.exit(0));
