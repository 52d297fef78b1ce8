/**
 * Where a job is in its life. `waiting` jobs are ready now; `delayed` ones wait for their time or
 * their next attempt; `completed`, `failed` (the dead letters) and `cancelled` are finished.
 */
export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'cancelled';

/** A job as `getJob` reports it. */
export interface JobInfo<Data = unknown, Result = unknown> {
  id: string;
  queue: string;
  name: string;
  data: Data;
  state: JobState;
  priority: number;
  /** Attempts started so far (a running job counts its current attempt). */
  attemptsMade: number;
  maxAttempts: number;
  createdAt: Date;
  /** When the job (or its next attempt) may run. */
  runAt: Date;
  finishedAt?: Date;
  /** The handler's return value, for completed jobs that are kept. */
  result?: Result;
  /** The last error, for failed jobs and for jobs waiting to retry. */
  error?: { message: string; stack?: string };
  /** The last value the handler gave `context.progress`, kept after the job finishes (while the job is kept). */
  progress?: JobProgress;
}

/** What `context.progress` takes: a number (a percentage, a count) or a small JSON value (at most 4096 characters as JSON). */
export type JobProgress = number | string | boolean | readonly unknown[] | { readonly [key: string]: unknown };

/** Jobs per state in one queue. */
export interface JobCounts {
  waiting: number;
  delayed: number;
  active: number;
  completed: number;
  failed: number;
  cancelled: number;
}

/** The second argument of a `@Job` handler. */
export interface JobContext {
  id: string;
  name: string;
  queue: string;
  /** 1 on the first try, 2 on the first retry, ... */
  attempt: number;
  maxAttempts: number;
  /** For a job a schedule enqueued, the tick it runs for (the same on every attempt); otherwise undefined. */
  readonly scheduledFor: Date | undefined;
  /**
   * Aborts when the process shuts down past its grace period, the worker loses the job's lease, the
   * attempt runs past its `runTimeoutMs`, or the job is cancelled; its `reason` says which
   * (`JobAbortedError`, `JobTimeoutError`, `JobCancelledError`). Stop work and throw.
   */
  readonly signal: AbortSignal;
  /**
   * Records how far the job has got, readable through `getJob` and reported as a `progress` event.
   * A bad value throws `InvalidJobProgressError` at once; the write itself happens in the
   * background (calls faster than the store keep the latest value) and never fails the job.
   */
  progress(value: JobProgress): Promise<void>;
  /**
   * Ends the attempt and runs the job again in `ms` without using an attempt: the same as
   * `throw new RetryLaterError(ms)` (bounded by the `@Job`'s `maxRetryLater`), as a statement:
   * `if (response.status === 429) context.retryAfter(retryAfterMs);`.
   */
  retryAfter(ms: number): never;
}

/** One entry of `QueueService.addBulk`. */
export interface BulkJob<Data = unknown> {
  queue: string;
  name: string;
  data: Data;
  options?: import('./job-options.interface.js').JobOptions;
}
