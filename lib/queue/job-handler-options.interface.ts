import type { BackoffOptions, RetentionOption } from './job-options.interface.js';
import type { JobSchedule } from './schedule-options.interface.js';
import type { JobRateLimitOptions } from './job-rate-limit-options.interface.js';
import type { JobConcurrencyOptions } from './job-concurrency-options.interface.js';

/**
 * Options of `@Job(name, options)`. `queue` and `concurrency` place the handler; the rest are the
 * defaults of every job of this name that this process enqueues (an `add` option still wins).
 */
export interface JobHandlerOptions {
  /**
   * The queue the handler serves.
   * @default 'default'
   */
  queue?: string;
  /**
   * A number: jobs of this name running at once in this process. The queue's worker runs at most
   * the largest of its handlers' (per-process) concurrency; each handler also never exceeds its own.
   * An object `{ limit, key?, perProcess? }`: at most `limit` jobs of one key at once across every
   * process (see `JobConcurrencyOptions`), and `perProcess` (default `limit`) in this one.
   * @default 1
   */
  concurrency?: number | JobConcurrencyOptions;
  /**
   * Total tries, the first included.
   * @default 1
   */
  attempts?: number;
  /**
   * Delay between attempts; a number means fixed backoff of that many ms.
   * @default { type: 'exponential', delay: 1000 }
   */
  backoff?: BackoffOptions | number;
  /**
   * Lease in ms a worker holds on a running job, renewed while the handler runs; not a run-time
   * limit. (Was `timeout`.)
   * @default the module's `queue.defaultLeaseMs` (30000)
   */
  leaseMs?: number;
  /**
   * Longest one attempt may run, in ms. At the limit the handler's `context.signal` aborts with a
   * `JobTimeoutError` and the attempt fails with it (retried by the job's policy). A handler that
   * ignores its signal keeps running in the background; what it does then is not recorded.
   * Unrelated to the lease, which only detects dead workers.
   * @default none
   */
  runTimeoutMs?: number;
  /** Retention of completed jobs. @default true (removed at once) */
  removeOnComplete?: RetentionOption;
  /** Retention of failed jobs. @default false (kept) */
  removeOnFail?: RetentionOption;
  /**
   * Enqueue a job of this name on a schedule: `{ cron, tz? }` or `{ every }`, with fixed `data` and
   * a `catchUp` policy. Each tick is enqueued once however many replicas run; the schedule is
   * created, updated or (once gone from the code) deleted when a process with workers boots.
   * @default none
   */
  schedule?: JobSchedule;
  /**
   * Run each attempt under a named rate-limit policy, sharing its budget with the routes that use it:
   * an attempt that finds the budget spent waits until a unit fits, without using an attempt.
   * @default none
   */
  rateLimit?: JobRateLimitOptions;
  /**
   * How often one job's handler may throw `RetryLaterError` (run again later without using an
   * attempt) before that error fails the attempt like any other.
   * @default 25
   */
  maxRetryLater?: number;
}
