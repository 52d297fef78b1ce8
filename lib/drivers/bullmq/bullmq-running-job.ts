import type { Job } from 'bullmq';
import type { RunningJob } from '../../queue/running-job.interface.js';

/**
 * A job a BullMQ worker of this process is running: the attempt the handler sees, the lock token
 * that hands it back, and the way to let BullMQ go on if the handler never settles.
 */
export interface BullmqRunningJob {
  readonly job: Job;
  readonly token: string | undefined;
  readonly run: RunningJob;
  /** Rejects the processor's promise; set once the job runs. */
  abandon: (reason: Error) => void;
  /** A cancel took the run over: only `abandon` settles the processor's promise from now on. */
  cancelling?: boolean;
}
