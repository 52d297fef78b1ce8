/**
 * How the BullMQ backend leases running jobs. Built by the queue provider factory from the module
 * config; tests pass short values to see a dead worker's jobs recovered in seconds.
 */
export interface BullmqQueueSettings {
  /**
   * Lease in ms of a running job when the worker spec gives none; BullMQ's `lockDuration`, renewed
   * every half lease while the handler runs.
   * @default 30000 (`queue.defaultTimeout`)
   */
  defaultTimeout?: number;
  /**
   * How often each worker looks for running jobs whose lease ran out (their worker died), in ms.
   * A dead worker's job is back in the queue between one lease and one lease plus two intervals.
   * @default the lease
   */
  stalledIntervalMs?: number;
  /**
   * Times one job may lose its lease and go back to waiting; past it the job fails
   * ("job stalled N times", as on Postgres). BullMQ's `maxStalledCount`.
   * @default 3 (`queue.maxStalls`)
   */
  maxStalledCount?: number;
}

export const DEFAULT_BULLMQ_LEASE_MS = 30_000;
