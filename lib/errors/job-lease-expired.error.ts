import { BallastError } from './ballast.error.js';

/**
 * A running job's lease ran out before its worker renewed it (the process died, hung, or lost the
 * database), and it had no attempt left, so it is now `failed`. `attemptsMade` counts the attempt
 * that stalled. The same message is stored as the job's error.
 */
export class JobLeaseExpiredError extends BallastError {
  constructor(
    readonly queue: string,
    readonly jobId: string,
    readonly attemptsMade: number,
  ) {
    super(JobLeaseExpiredError.describe(attemptsMade));
  }

  /** The error text stored on a job whose lease expired, also when it is retried. */
  static describe(attemptsMade?: number): string {
    const after = attemptsMade === undefined ? '' : ` (attempt ${attemptsMade})`;
    return `job lease expired${after}: its worker stopped or could not renew the lease in time`;
  }
}
