import { BallastInputError } from './ballast-input.error.js';

/**
 * A `cost` a rate-limit policy can never accept: not a whole number, negative, or above the
 * policy's `limit` (no amount of waiting would let it through, so it is a caller bug, not a 429).
 */
export class InvalidCostError extends BallastInputError {
  constructor(
    readonly cost: unknown,
    readonly limit: number,
    readonly policy: string,
  ) {
    super(`Invalid rate-limit cost ${String(cost)} for policy "${policy}": expected a whole number from 0 to the limit, ${limit}`);
  }
}
