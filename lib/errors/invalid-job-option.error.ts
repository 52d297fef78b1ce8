import { BallastInputError } from './ballast-input.error.js';

/**
 * A job option out of range, of the wrong type, or combined with one it excludes (`delay` with
 * `runAt`). `option` is its name, `value` what it held, `allowed` what it may hold; `source` says
 * where it was given (`add`, or `@Job on Class.method` at bootstrap). Nothing was enqueued.
 */
export class InvalidJobOptionError extends BallastInputError {
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly allowed: string,
    readonly source: string,
  ) {
    super(`Invalid job option ${option} in ${source}: ${describe(value)}; allowed: ${allowed}`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString();
  return `a ${typeof value}`;
}
