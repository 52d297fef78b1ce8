import { BallastError } from './ballast.error.js';

/** A key that Ballast will not store: not a string, empty, or longer than the documented maximum. */
export class InvalidKeyError extends BallastError {
  constructor(
    readonly key: unknown,
    readonly reason: string,
  ) {
    super(`Invalid key: ${reason}`);
  }
}
