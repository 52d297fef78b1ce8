import { BallastInputError } from './ballast-input.error.js';

/** A key that Ballast will not store: not a string, empty, or longer than the documented maximum. */
export class InvalidKeyError extends BallastInputError {
  constructor(
    readonly key: unknown,
    readonly reason: string,
  ) {
    super(`Invalid key: ${reason}`);
  }
}
