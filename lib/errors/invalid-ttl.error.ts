import { BallastInputError } from './ballast-input.error.js';

/** Longest TTL, in ms: 100 years. Longer is a bug in the caller, and would reach dates no store shares. */
export const MAX_TTL = 100 * 365.25 * 24 * 3600 * 1000;

/** A TTL that is not a whole number of milliseconds from 0 (no expiry) to `MAX_TTL` (100 years). */
export class InvalidTtlError extends BallastInputError {
  constructor(readonly ttl: unknown) {
    super(`Invalid ttl ${String(ttl)}: expected a whole number of milliseconds from 0 (no expiry) to ${MAX_TTL} (100 years)`);
  }
}
