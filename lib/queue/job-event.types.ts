/** What workers report; `JobEventDispatcher` fans these out to `@OnJobEvent` listeners. */
export type JobEvent =
  | { type: 'completed'; queue: string; jobId: string; name: string; attempt: number; result: unknown }
  | { type: 'failed'; queue: string; jobId: string; name: string; attempt: number; error: Error }
  | { type: 'retrying'; queue: string; jobId: string; name: string; attempt: number; error: Error; nextRunAt: Date }
  | { type: 'stalled'; queue: string; jobId: string; name?: string };

/** The kinds of job event: `completed`, `failed` (attempts used up), `retrying`, `stalled`. */
export type JobEventType = JobEvent['type'];

/** A handler returned; `result` is what it returned. */
export type JobCompletedEvent = Extract<JobEvent, { type: 'completed' }>;
/** The last attempt failed: the job is now in the `failed` (dead-letter) state. */
export type JobFailedEvent = Extract<JobEvent, { type: 'failed' }>;
/** An attempt failed and another is scheduled at `nextRunAt`. */
export type JobRetryingEvent = Extract<JobEvent, { type: 'retrying' }>;
/** A running job's lease ran out (its worker died or hung) and the job was handed back to the queue. */
export type JobStalledEvent = Extract<JobEvent, { type: 'stalled' }>;

/** The payload of the event named `T`. */
export type JobEventOf<T extends JobEventType> = Extract<JobEvent, { type: T }>;
