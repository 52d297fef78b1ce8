import type { Job } from 'bullmq';
import type { JobAbortedError } from '../../errors/job-aborted.error.js';

/**
 * A job a BullMQ worker of this process is running: the lock token that hands it back, its abort
 * signal, and the way to let BullMQ go on if the handler never settles.
 *
 * The signal is made on first read (through `BullmqJobContext.signal`): creating an AbortSignal
 * cost about 9 µs per job here, more than the rest of this layer, and most handlers never look at it.
 */
export class BullmqRunningJob {
  /** Rejects the processor's promise; set once the job runs. */
  abandon: (reason: Error) => void = () => undefined;
  private controller: AbortController | undefined;
  private abortedWith: JobAbortedError | undefined;

  constructor(
    readonly job: Job,
    readonly token: string | undefined,
  ) {}

  abort(reason: JobAbortedError): void {
    if (this.abortedWith) return;
    this.abortedWith = reason;
    this.controller?.abort(reason);
  }

  signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      // Read after the abort: the signal must still say so.
      if (this.abortedWith) this.controller.abort(this.abortedWith);
    }
    return this.controller.signal;
  }
}
