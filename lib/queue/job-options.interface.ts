import type { SqlClient } from '../core/connections/sql-client.js';
import type { DebounceJobOptions, ThrottleJobOptions, UniqueJobOptions } from './job-dedupe-options.interface.js';

/** How long to wait before the next attempt of a failed job. */
export interface BackoffOptions {
  /** `fixed`: always `delay`; `exponential`: `delay * 2^(attempt - 1)`. */
  type: 'fixed' | 'exponential';
  /** Base delay in ms. */
  delay: number;
  /**
   * Fraction of the delay randomized away, 0..1 (0.2 = up to 20 % shorter), to spread retries of many jobs.
   * @default 0
   */
  jitter?: number;
}

/**
 * What to keep of a finished job: `true` removes it at once, `false` keeps it, a number keeps that
 * many of the newest, `{ age }` keeps those finished within `age` ms (and at most `count`, if given).
 */
export type RetentionOption = boolean | number | { age: number; count?: number };

/** Options of `QueueService.add`; `@Job` options give the defaults for its job name. */
export interface JobOptions {
  /** Run no earlier than `delay` ms from now. Exclusive with `runAt`. */
  delay?: number;
  /** Run no earlier than this moment. Exclusive with `delay`. */
  runAt?: Date;
  /**
   * Lower runs first: 0 (the default) before 1, 1 before 2, and so on up to 2,097,152. Equal priorities run FIFO.
   * @default 0
   */
  priority?: number;
  /**
   * Total tries, the first included; past it the job is `failed` (the dead-letter state).
   * @default 1 (no retry), or the `@Job` attempts
   */
  attempts?: number;
  /**
   * Delay between attempts; a number means fixed backoff of that many ms.
   * @default { type: 'exponential', delay: 1000 }, or the `@Job` backoff
   */
  backoff?: BackoffOptions | number;
  /**
   * Idempotency key: adding an id that exists returns that job (`deduplicated`) and creates nothing.
   * It holds only while the job is kept: with `removeOnComplete: true` the same id runs again after
   * completion. `unique` holds for a set time whatever the retention.
   */
  jobId?: string;
  /** At most one job per key within `for` ms of the add that made it, whatever its state or retention. */
  unique?: UniqueJobOptions;
  /**
   * Run `delay` ms after the last add of `key`; an add while the job waits replaces its data
   * (`replaced`). Exclusive with `delay`, `runAt`, `jobId`, `unique` and `throttle`.
   */
  debounce?: DebounceJobOptions;
  /**
   * The first add of `key` runs `for` ms later; adds after it are dropped (`deduplicated`) until
   * that job finishes. Exclusive with `delay`, `runAt`, `jobId`, `unique` and `debounce`.
   */
  throttle?: ThrottleJobOptions;
  /**
   * Lease in ms a worker holds on a running job; the worker renews it while the handler runs, and the
   * job returns to the queue if the worker dies and the lease runs out. Not a limit on how long the
   * handler may run: a healthy worker keeps renewing it. (Was `timeout`.)
   * @default the `@Job` lease, else `queue.defaultLeaseMs` (30000)
   */
  leaseMs?: number;
  /**
   * Longest one attempt may run, in ms. At the limit the handler's `context.signal` aborts with a
   * `JobTimeoutError` and the attempt fails with it (retried by the job's policy). A handler that
   * ignores its signal keeps running in the background; what it does then is not recorded.
   * Unrelated to the lease, which only detects dead workers.
   * @default the `@Job` run timeout, else none
   */
  runTimeoutMs?: number;
  /** Retention of completed jobs. @default true (removed at once) */
  removeOnComplete?: RetentionOption;
  /** Retention of failed jobs. @default false (kept, queryable and retryable) */
  removeOnFail?: RetentionOption;
  /**
   * Run the job under this concurrency key instead of the one its `@Job` computes (1 to 256
   * printable characters): at most the key's limit of its jobs run at once across every process.
   * @default the `@Job`'s `concurrency.key` of the data, when it has a `concurrency.limit`; else none
   */
  concurrencyKey?: string;
  /**
   * The most jobs of the key running at once (1 to 100000); needed with `concurrencyKey` when the
   * `@Job` sets no `concurrency.limit`. A key's limit is the one its latest job was added with.
   * @default the `@Job`'s `concurrency.limit`
   */
  concurrencyLimit?: number;
  /**
   * Postgres only: insert the job on this client, inside the caller's open transaction, so the job
   * exists if and only if that transaction commits. Refused with `UnsupportedOptionError` elsewhere.
   */
  client?: SqlClient;
}
