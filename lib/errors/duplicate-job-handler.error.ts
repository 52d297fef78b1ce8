import { BallastError } from './ballast.error.js';

/**
 * Two `@Job` methods claim one job name in one queue; thrown at bootstrap. A worker routes by name,
 * so it could not know which one to run. `handlers` names both as `Class.method`.
 */
export class DuplicateJobHandlerError extends BallastError {
  constructor(
    readonly queue: string,
    readonly jobName: string,
    readonly handlers: readonly string[],
  ) {
    super(
      `Two @Job handlers for job '${jobName}' in queue '${queue}': ${handlers.join(' and ')}. ` +
        'Keep one, or give one of them another name or queue.',
    );
  }
}
