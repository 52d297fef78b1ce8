import type { LeasedJob } from '../job-store.interface.js';
import type { RunningJob } from '../running-job.interface.js';

/** A job this process holds under a lease: buffered, running, or finished and waiting for its write. */
export interface ClaimedJob extends LeasedJob {
  /**
   * Its handler started in this worker. The claim told the store so for the jobs that started at
   * once; for one that waited in the buffer, the next lease renewal does (a stall counts only then).
   */
  started: boolean;
  /** Client time at which the lease should next be renewed. */
  renewAt: number;
  /** The attempt as the handler sees it; aborted on shutdown past the grace period, on lease loss, or at its run timeout. */
  run: RunningJob;
  /**
   * The job is no longer this worker's (handed back, or its lease was lost): whatever its handler
   * does now is not written.
   */
  released: boolean;
  /** Cancelled here: its attempt already ended (`cancelled`), so whatever its handler returns later is ignored. */
  cancelled: boolean;
}

/**
 * The job as the worker holds it, with its attempt `run`, its first renewal due at a third of its lease. The store's object
 * is extended in place rather than copied: this runs for every job claimed.
 */
export function toClaimedJob(job: LeasedJob, run: RunningJob, now: number): ClaimedJob {
  const claimed = job as ClaimedJob;
  claimed.started = false;
  claimed.renewAt = now + job.leaseMs / 3;
  claimed.run = run;
  claimed.released = false;
  claimed.cancelled = false;
  return claimed;
}
