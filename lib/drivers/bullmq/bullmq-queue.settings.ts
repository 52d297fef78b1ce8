/**
 * How the BullMQ backend leases running jobs. Built by the queue provider factory from the module
 * config; tests pass short values to see a dead worker's jobs recovered in seconds.
 */
export interface BullmqQueueSettings {
  /**
   * How often each worker looks for running jobs whose lease ran out (their worker died), in ms.
   * A dead worker's job is back in the queue between one lease and one lease plus two intervals.
   * @default the worker's lease (`lockDuration`, the longest lease of the queue's handlers)
   */
  stalledIntervalMs?: number;
  /**
   * Times one job may lose its lease and go back to waiting; past it the job fails
   * ("job stalled N times", as on Postgres). BullMQ's `maxStalledCount`.
   * @default 3 (`queue.maxStalls`)
   */
  maxStalledCount?: number;
}
