import { BallastError } from './ballast.error.js';

/**
 * The job was cancelled (`QueueService.cancel`) while it ran: the handler's `context.signal` aborted
 * with this error, and the attempt ended the job as `cancelled`, not retried, whatever attempts it
 * had left. A handler that ignores its signal keeps running in the background; nothing it does after
 * this is recorded.
 */
export class JobCancelledError extends BallastError {
  constructor(
    readonly queue: string,
    readonly jobId: string,
  ) {
    super(`Job ${jobId} of queue '${queue}' was cancelled`);
  }
}
