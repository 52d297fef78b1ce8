import { BallastError } from './ballast.error.js';

/**
 * A worker took a job whose name has no `@Job` handler in its queue (a typo in `add`, or a handler
 * removed while jobs of its name still wait). The attempt fails like a throwing handler, so the job
 * retries per its `attempts` (another deploy may have the handler) and then lands in `failed`.
 */
export class NoJobHandlerError extends BallastError {
  constructor(
    readonly queue: string,
    readonly jobName: string,
    readonly knownNames: readonly string[],
  ) {
    super(
      `No @Job handler for job ${JSON.stringify(jobName)} in queue ${JSON.stringify(queue)}; ` +
        `this process handles ${knownNames.length > 0 ? knownNames.map((name) => JSON.stringify(name)).join(', ') : 'no job names'} there`,
    );
  }
}
