/**
 * `unique`: at most one job per key within a window that starts at the add, whatever becomes of that
 * job (run, failed, removed by retention). Later adds in the window are deduplicated into it.
 */
export interface UniqueJobOptions {
  /**
   * The key, unique per queue.
   * @default the job name and a hash of its data (the same data under the same name is one job)
   */
  key?: string;
  /** How long the key holds, in ms from the add that took it. */
  for: number;
}

/**
 * `debounce`: the job runs `delay` ms after the last add of its key. An add while the job waits
 * replaces its data and pushes its run time back; an add while it runs makes a new job, so no data
 * is lost for having come in mid-run.
 */
export interface DebounceJobOptions {
  /** The key, unique per queue among jobs not yet finished. */
  key: string;
  /** Quiet time in ms after the last add before the job runs. */
  delay: number;
}

/**
 * `throttle`: the first add of a key makes a job that runs `for` ms later; every add of the key after
 * it is dropped (deduplicated into that job) until the job has finished. At most one run per key at a
 * time, at most one per `for` window.
 */
export interface ThrottleJobOptions {
  /** The key, unique per queue among jobs not yet finished. */
  key: string;
  /** How long the first add waits before it runs, in ms, collecting the adds that follow. */
  for: number;
}

/** A job's deduplication after defaults, as a backend receives it: the mode, its key and its span in ms. */
export type JobDedupe =
  | { mode: 'unique'; key: string; forMs: number }
  | { mode: 'debounce'; key: string; delayMs: number }
  | { mode: 'throttle'; key: string; forMs: number };
