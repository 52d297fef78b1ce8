import type { JobProgress } from './job.interface.js';

/** What workers report; `JobEventDispatcher` fans these out to `@OnJobEvent` listeners. */
export type JobEvent =
  | { type: 'completed'; queue: string; jobId: string; name: string; attempt: number; result: unknown }
  | { type: 'failed'; queue: string; jobId: string; name: string; attempt: number; error: Error }
  | { type: 'retrying'; queue: string; jobId: string; name: string; attempt: number; error: Error; nextRunAt: Date }
  | { type: 'stalled'; queue: string; jobId: string; name?: string }
  | { type: 'progress'; queue: string; jobId: string; name: string; attempt: number; progress: JobProgress }
  | { type: 'cancelled'; queue: string; jobId: string; name: string; attempt: number };

/** The kinds of job event: `completed`, `failed` (attempts used up), `retrying`, `stalled`, `progress`, `cancelled`. */
export type JobEventType = JobEvent['type'];

/** A handler returned; `result` is what it returned. */
export type JobCompletedEvent = Extract<JobEvent, { type: 'completed' }>;
/** The last attempt failed: the job is now in the `failed` (dead-letter) state. */
export type JobFailedEvent = Extract<JobEvent, { type: 'failed' }>;
/** An attempt failed and another is scheduled at `nextRunAt`. */
export type JobRetryingEvent = Extract<JobEvent, { type: 'retrying' }>;
/** A running job's lease ran out (its worker died or hung) and the job was handed back to the queue. */
export type JobStalledEvent = Extract<JobEvent, { type: 'stalled' }>;

/** A running handler called `context.progress` (in this process; the value is stored for `getJob`). */
export type JobProgressEvent = Extract<JobEvent, { type: 'progress' }>;

/**
 * A running job was cancelled and its attempt has ended (`cancelled` state), reported by the process
 * that ran it. A job cancelled while it waited emits nothing: `cancel`'s result tells the caller.
 */
export type JobCancelledEvent = Extract<JobEvent, { type: 'cancelled' }>;

/** The payload of the event named `T`. */
export type JobEventOf<T extends JobEventType> = Extract<JobEvent, { type: T }>;
