import { BallastError } from './ballast.error.js';

/**
 * A job's attempt ran past its `runTimeoutMs`: the handler's `context.signal` aborted with this
 * error and the attempt failed with it, retried by the job's normal policy. A handler that ignores
 * its signal keeps running in the background; nothing it does after this is recorded.
 */
export class JobTimeoutError extends BallastError {
  constructor(
    readonly queue: string,
    readonly jobId: string,
    readonly runTimeoutMs: number,
  ) {
    super(`Job ${jobId} of queue '${queue}' ran past its run timeout of ${runTimeoutMs} ms`);
  }
}
