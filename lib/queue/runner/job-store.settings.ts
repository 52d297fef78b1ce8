import { DEFAULT_MAX_STALLS } from '../resolve-queue-config.js';

/**
 * Tuning of the SQL runner. Only `pollIntervalMs` is a public option (`queue.pollIntervalMs`);
 * the rest have defaults that are fast without tuning and exist so tests and benchmarks can shorten
 * the periodic work.
 */
export interface JobStoreSettings {
  /** How often an idle worker claims without a notification; bounds how late a missed notification or a delayed job can be. */
  pollIntervalMs: number;
  /** How often a worker returns its queue's jobs whose lease expired. */
  reapIntervalMs: number;
  /** Jobs one reaper statement handles at most. */
  reapBatchSize: number;
  /** Times a job may lose its lease and go back to waiting (without using an attempt) before it fails. */
  maxStalls: number;
  /** How often finished jobs past their retention are deleted. */
  pruneIntervalMs: number;
  /** Rows one prune statement deletes at most. */
  pruneBatchSize: number;
  /** Claimed jobs a worker may hold beyond its free slots, at most. */
  maxPrefetch: number;
  /**
   * Work a worker buffers, in ms of handler time: the buffer grows for quick jobs (fewer, larger
   * claims) and shrinks to nothing for slow ones (no job waits long behind a busy worker).
   */
  prefetchWindowMs: number;
  /** Completions or failures written per statement, at most. */
  maxFlushBatch: number;
  /**
   * Enqueue statements of this process in flight at once. An `add` beyond them waits for one to
   * finish and then shares the next statement with the other waiting calls.
   */
  maxConcurrentEnqueues: number;
  /** Jobs one shared enqueue statement carries at most (a single `addBulk` may exceed it). */
  maxEnqueueBatch: number;
  /** Due schedules one scheduler statement moves on at most. */
  scheduleBatchSize: number;
}

export const DEFAULT_JOB_STORE_SETTINGS: JobStoreSettings = {
  pollIntervalMs: 1000,
  reapIntervalMs: 1000,
  reapBatchSize: 500,
  maxStalls: DEFAULT_MAX_STALLS,
  pruneIntervalMs: 5000,
  pruneBatchSize: 1000,
  maxPrefetch: 100,
  prefetchWindowMs: 100,
  maxFlushBatch: 1000,
  maxConcurrentEnqueues: 2,
  maxEnqueueBatch: 500,
  scheduleBatchSize: 500,
};

/** The defaults with the given fields replaced. */
export function jobStoreSettings(overrides: Partial<JobStoreSettings> = {}): JobStoreSettings {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return { ...DEFAULT_JOB_STORE_SETTINGS, ...defined };
}
