import type { RetentionOption } from './job-options.interface.js';
import type { JobDedupe } from './job-dedupe-options.interface.js';

/**
 * A job ready for a backend: validated, defaults applied (`@Job` defaults, then module defaults),
 * data checked to be JSON-safe. Backends never validate or default again; each serializes the data
 * once, where it stores it.
 */
export interface NewJob {
  queue: string;
  name: string;
  /** The job data, JSON-safe (checked by `QueueService`). */
  data: unknown;
  /** Epoch ms; undefined means now. */
  runAt: number | undefined;
  priority: number;
  attempts: number;
  backoff: { type: 'fixed' | 'exponential'; delay: number; jitter: number };
  jobId: string | undefined;
  /** `unique`, `debounce` or `throttle`, key filled in; null for none. Debounce and throttle have set `runAt`. */
  dedupe: JobDedupe | null;
  /** Lease length in ms. */
  leaseMs: number;
  /** Longest one attempt may run, in ms; null for no limit. */
  runTimeoutMs: number | null;
  removeOnComplete: RetentionOption;
  removeOnFail: RetentionOption;
  /** The concurrency key the job runs under and the most jobs of that key running at once; null for none. */
  concurrency: JobConcurrencyKey | null;
}

/** A job's concurrency key, resolved at `add`: at most `limit` jobs of `key` (in the job's queue) run at once. */
export interface JobConcurrencyKey {
  key: string;
  limit: number;
}
