import { BallastInputError } from './ballast-input.error.js';

/**
 * A queue name, job name or job id Ballast will not use. They become Redis keys and index entries,
 * so they are bounded and restricted to characters that mean the same on every backend.
 */
export class InvalidJobNameError extends BallastInputError {
  constructor(
    readonly field: 'queue' | 'name' | 'jobId' | 'id',
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`Invalid ${field === 'name' ? 'job name' : field === 'queue' ? 'queue name' : field} ${describe(value)}: ${reason}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return value === null ? 'null' : `(a ${typeof value})`;
}
