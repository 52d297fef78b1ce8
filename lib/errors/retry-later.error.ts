import { BallastError } from './ballast.error.js';

/**
 * Thrown by a handler to run the job again in `delayMs` without using an attempt: a downstream
 * answered 429 or "try later", which is no failure of the job. A handler may do so at most its
 * `@Job`'s `maxRetryLater` times per job (the job's `retry` starts the count again); past that, the
 * error fails the attempt like any other.
 */
export class RetryLaterError extends BallastError {
  constructor(
    readonly delayMs: number,
    message = `retry later, in ${delayMs} ms`,
  ) {
    super(message);
    if (!Number.isSafeInteger(delayMs) || delayMs < 0) throw new RangeError(`RetryLaterError: delayMs must be a whole number of ms, 0 or more; got ${String(delayMs)}`);
  }
}
