import { RetryLaterError } from './retry-later.error.js';

/**
 * The job's `rateLimit` budget was spent when its attempt was due: it waits `delayMs` (until the
 * policy says a unit fits) and runs then, without using an attempt; never bounded by
 * `maxRetryLater`. Internal to the runners (nothing failed, so nothing reports it); exported as a
 * type only.
 */
export class JobRateLimitedError extends RetryLaterError {
  constructor(
    readonly queue: string,
    readonly jobId: string,
    readonly policy: string,
    delayMs: number,
  ) {
    super(delayMs, `Job ${jobId} of queue '${queue}' waits ${delayMs} ms for its rate-limit budget (policy '${policy}')`);
  }
}
