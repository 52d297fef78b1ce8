import { BallastError } from './ballast.error.js';

/** A TTL that is not a whole number of milliseconds >= 0. */
export class InvalidTtlError extends BallastError {
  constructor(readonly ttl: unknown) {
    super(`Invalid ttl ${String(ttl)}: expected a whole number of milliseconds >= 0 (0 means no expiry)`);
  }
}
