import { PRIORITY_LIMIT, type DeduplicationOptions, type JobsOptions, type KeepJobs } from 'bullmq';
import type { RetentionOption } from '../../queue/job-options.interface.js';
import type { JobDedupe } from '../../queue/job-dedupe-options.interface.js';
import type { NewJob } from '../../queue/queue-backend.interface.js';
import { newBullmqJobId } from './bullmq-job-id.js';

/**
 * BullMQ options of one job. BullMQ stores the options with every job and parses them on every
 * fetch, so only what differs from its defaults is set.
 *
 * - `runAt` becomes `delay` from `now`.
 * - `priority`: both run 0 first and lower before higher, FIFO within one value; BullMQ stops at
 *   2^21 - 1, so the highest value Ballast accepts shares that last rank.
 * - `backoff` (fixed / exponential, `jitter` as a fraction shaved off) is BullMQ's own, same formula.
 * - `leaseMs` is not per job on BullMQ: the worker's lease (`lockDuration`) covers every job it runs.
 * - `runTimeoutMs` has no BullMQ option: it rides in the stored options under a key of Ballast's own,
 *   which BullMQ keeps as it is (it passes unknown option keys through) and hands back on fetch.
 * - `concurrency` (a key and its limit) rides there too, for the worker's slots (`BullmqConcurrencySlots`).
 * - `jobId`: the caller's, or a fresh time-ordered id (`newBullmqJobId`), never BullMQ's counter,
 *   which restarts at 1 when Redis loses its data.
 * - `dedupe` is BullMQ's deduplication (`toDeduplication`).
 */
export function toBullmqJobOptions(job: NewJob, now: number): JobsOptions {
  const options: JobsOptions = { removeOnComplete: toKeepJobs(job.removeOnComplete) };
  // BullMQ keeps failed jobs unless told otherwise, as Ballast does by default.
  if (job.removeOnFail !== false) options.removeOnFail = toKeepJobs(job.removeOnFail);
  if (job.runAt !== undefined && job.runAt > now) options.delay = job.runAt - now;
  if (job.priority > 0) options.priority = Math.min(job.priority, PRIORITY_LIMIT);
  if (job.attempts > 1) {
    options.attempts = job.attempts;
    const { type, delay, jitter } = job.backoff;
    options.backoff = jitter > 0 ? { type, delay, jitter } : { type, delay };
  }
  options.jobId = job.jobId ?? newBullmqJobId(now);
  if (job.runTimeoutMs !== null) (options as BallastJobsOptions)[RUN_TIMEOUT_KEY] = job.runTimeoutMs;
  if (job.concurrency !== null) (options as BallastJobsOptions)[CONCURRENCY_KEY] = [job.concurrency.key, job.concurrency.limit];
  if (job.dedupe !== null) options.deduplication = toDeduplication(job.dedupe);
  return options;
}

/**
 * BullMQ's deduplication for each mode. Ids are per queue, as keys are in Postgres; `unique` keys and
 * debounce/throttle keys get a prefix each, so one cannot shadow the other (they are apart in
 * Postgres too). The run time of debounce and throttle is the job's `delay`, set from `runAt`.
 * - `unique`: a key that expires `forMs` after the add (`ttl`); BullMQ keeps a key with time left
 *   when its job finishes, so the window holds whatever becomes of the job.
 * - `throttle`: a key without expiry, which BullMQ deletes when its job completes or fails: adds are
 *   dropped until the job has finished.
 * - `debounce`: `replace` swaps a delayed job for the new one (new data, new delay); `keepLastIfActive`
 *   keeps the data of an add that comes while the job runs, as the job BullMQ creates when the run
 *   ends. A job already due and waiting for a worker is neither: such an add is deduplicated into it.
 */
export function toDeduplication(dedupe: JobDedupe): DeduplicationOptions {
  const id = deduplicationId(dedupe);
  if (dedupe.mode === 'unique') return { id, ttl: dedupe.forMs };
  if (dedupe.mode === 'throttle') return { id };
  return { id, replace: true, keepLastIfActive: true };
}

/** The BullMQ deduplication id of a job's key. */
export function deduplicationId(dedupe: JobDedupe): string {
  return `${dedupe.mode === 'unique' ? 'u' : 'k'}:${dedupe.key}`;
}

/** Ballast's field on a BullMQ job's hash: how often its handler threw `RetryLaterError` (bounded by `maxRetryLater`). */
export const RETRY_LATERS_FIELD = 'ballastRetryLaters';

/** Ballast's key for the run timeout among a BullMQ job's stored options. */
const RUN_TIMEOUT_KEY = 'ballastRunTimeoutMs';

/** Ballast's key for the concurrency key and limit among a BullMQ job's stored options. */
const CONCURRENCY_KEY = 'ballastConcurrency';

type BallastJobsOptions = JobsOptions & { [RUN_TIMEOUT_KEY]?: number; [CONCURRENCY_KEY]?: [string, number] };

/** The concurrency key and limit stored with a BullMQ job, or null. */
export function concurrencyOf(options: JobsOptions): { key: string; limit: number } | null {
  const value = (options as BallastJobsOptions)[CONCURRENCY_KEY];
  return Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'number' ? { key: value[0], limit: value[1] } : null;
}

/** The run timeout stored with a BullMQ job, or null. */
export function runTimeoutOf(options: JobsOptions): number | null {
  const value = (options as BallastJobsOptions)[RUN_TIMEOUT_KEY];
  return typeof value === 'number' ? value : null;
}

/** Ballast retention to BullMQ's: the same shape, but BullMQ counts age in whole seconds. */
export function toKeepJobs(option: RetentionOption): boolean | number | KeepJobs {
  if (typeof option !== 'object') return option;
  // Rounding up never removes a job earlier than asked.
  const age = Math.ceil(option.age / 1000);
  return option.count === undefined ? { age } : { age, count: option.count };
}
