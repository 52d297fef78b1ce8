import { BallastInputError } from './ballast-input.error.js';

/**
 * A value that JSON cannot carry unchanged (a function, BigInt, `undefined`, a cycle, a Date, a Map...).
 * `path` points at the offending part, e.g. `$.user.createdAt`. Nothing was written.
 */
export class SerializationError extends BallastInputError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Value cannot be stored as JSON at ${path}: ${reason}`);
  }
}
