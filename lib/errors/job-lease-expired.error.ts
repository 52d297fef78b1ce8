import { BallastError } from './ballast.error.js';

/**
 * A running job lost its lease (its process died, hung, or lost the store) more often than
 * `queue.maxStalls` allows, so it is now `failed` rather than run again. A job that keeps taking its
 * worker down has to stop somewhere; `retry()` gives it a fresh budget. The same message is stored
 * as the job's error.
 */
export class JobLeaseExpiredError extends BallastError {
  constructor(
    readonly queue: string,
    readonly jobId: string,
    readonly maxStalls: number,
  ) {
    super(JobLeaseExpiredError.describe(maxStalls));
  }

  /** The error text stored on a job failed for stalling: it stalled once more than allowed. */
  static describe(maxStalls: number): string {
    const stalls = maxStalls + 1;
    return (
      `job stalled ${stalls} time${stalls === 1 ? '' : 's'} (queue.maxStalls is ${maxStalls}): its worker died, hung or lost the store ` +
      'before it finished; the handler did not throw'
    );
  }
}
