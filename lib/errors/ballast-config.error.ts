import { BallastError } from './ballast.error.js';

/**
 * Invalid configuration, thrown at boot. `key` is the option path or env var that is wrong,
 * `value` what it held and `allowed` a description of what it may hold.
 */
export class BallastConfigError extends BallastError {
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(`Ballast config: ${key} is ${describe(value)}; allowed: ${allowed}`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'not set';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  return `a ${typeof value}`;
}
