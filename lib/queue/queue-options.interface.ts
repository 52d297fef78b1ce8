import type { ProviderName } from '../common/provider-name.js';

/** Options of the queue service (`forRoot({ queue: { ... } })`). */
export interface QueueOptions {
  /**
   * Where jobs live. Env `QUEUE_PROVIDER`.
   * @default 'postgres'
   */
  provider?: ProviderName;
  /**
   * Run `@Job` handlers in this process. `false` makes an enqueue-only process. Env `BALLAST_WORKERS`.
   * @default true
   */
  workers?: boolean;
  /**
   * Postgres only: how often an idle worker looks for jobs even without a NOTIFY, in ms. Bounds how late
   * a delayed job or a missed notification can be.
   * @default 1000
   */
  pollIntervalMs?: number;
  /**
   * On shutdown, how long running jobs may finish before they are aborted and handed back, in ms.
   * @default 10000
   */
  shutdownTimeoutMs?: number;
  /**
   * Lease of a running job in ms when neither `add` nor `@Job` gives a `leaseMs`. (Was `defaultTimeout`.)
   * @default 30000
   */
  defaultLeaseMs?: number;
  /**
   * Times a job may lose its lease (its worker died, hung or lost the store) and go back to the
   * queue. Such a return does not use up an attempt: a deploy or a crash never costs a job its
   * retries. Past this many, the job fails (a job that keeps killing its worker must stop somewhere).
   * BullMQ's `maxStalledCount`. Such a failure says "job stalled N times" in its error.
   * @default 3
   */
  maxStalls?: number;
  /**
   * Upper bound in ms of a `QueueService` call (add, getJob, ...), like `cache.timeoutMs`.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Postgres only: `add` waits for the WAL flush at commit, so an acknowledged job survives a
   * database *server* crash. `false` trades that for faster enqueues: a job acknowledged in the last
   * few hundred ms before a server crash can be lost (as with Redis under `appendfsync everysec`).
   * An app crash loses nothing either way, and an `add` with `client` always has the durability of
   * the caller's transaction.
   * @default true
   */
  durableEnqueue?: boolean;
}
