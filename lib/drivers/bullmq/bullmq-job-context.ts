import type { JobContext } from '../../queue/job.interface.js';
import type { BullmqRunningJob } from './bullmq-running-job.js';

/**
 * The handler's view of a running job. A class, not an object literal with a getter: V8 builds
 * those several times slower, and this is made for every job.
 */
export class BullmqJobContext implements JobContext {
  readonly id: string;
  readonly name: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly #running: BullmqRunningJob;

  constructor(
    readonly queue: string,
    running: BullmqRunningJob,
  ) {
    const { job } = running;
    this.id = job.id ?? '';
    this.name = job.name;
    // BullMQ counts finished attempts; a stall does not count one.
    this.attempt = job.attemptsMade + 1;
    this.maxAttempts = job.opts.attempts || 1;
    this.#running = running;
  }

  get signal(): AbortSignal {
    return this.#running.signal();
  }
}
