import { BallastError } from './ballast.error.js';

/**
 * Thrown by a handler to run the job again in `delayMs` without using an attempt: a downstream
 * answered 429 or "try later", which is no failure of the job. A handler may do so at most its
 * `@Job`'s `maxRetryLater` times per job (the job's `retry` starts the count again); past that, the
 * error fails the attempt like any other.
 */
export class RetryLaterError extends BallastError {
  /** The wait, in whole ms (a fraction is rounded up, e.g. from a `Retry-After` header in seconds). */
  readonly delayMs: number;

  constructor(delayMs: number, message = `retry later, in ${Math.ceil(delayMs)} ms`) {
    super(message);
    if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_RETRY_LATER_MS) {
      throw new RangeError(`RetryLaterError: delayMs must be a number of ms from 0 to ${MAX_RETRY_LATER_MS}; got ${String(delayMs)}`);
    }
    this.delayMs = Math.ceil(delayMs);
  }
}

/** The longest wait a `RetryLaterError` may ask for: what a Node timer can wait, about 24.8 days. */
const MAX_RETRY_LATER_MS = 2_147_483_647;
