import { BallastInputError } from './ballast-input.error.js';

/**
 * `context.progress(value)` was given something a job cannot carry as progress: not JSON-safe, or
 * longer than `MAX_PROGRESS_CHARS` as JSON. `reason` says which. Nothing was written; the job runs on.
 */
export class InvalidJobProgressError extends BallastInputError {
  constructor(
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(`Invalid progress for job ${jobId}: ${reason}`);
  }
}
