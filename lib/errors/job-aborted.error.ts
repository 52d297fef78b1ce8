import { BallastError } from './ballast.error.js';

/**
 * The reason a handler's `context.signal` aborts with. `cause` says why: `shutdown` (the process is
 * stopping and the grace period ran out; the job went back to the queue and will run again) or
 * `lease-lost` (the worker could not keep its lease, so another worker may run the job; stop
 * touching shared state). Whatever the handler does after this is not recorded.
 */
export class JobAbortedError extends BallastError {
  constructor(
    readonly queue: string,
    readonly jobId: string,
    readonly why: 'shutdown' | 'lease-lost',
  ) {
    super(
      why === 'shutdown'
        ? `Job ${jobId} of queue '${queue}' aborted: the worker is shutting down; the job goes back to the queue`
        : `Job ${jobId} of queue '${queue}' aborted: the worker lost its lease; another worker may run it`,
    );
  }
}
