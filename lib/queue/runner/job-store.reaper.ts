import type { Logger } from '@nestjs/common';
import { errorMessage } from '../../common/error-message.js';
import type { OutageLog } from '../../common/outage-log.js';
import { PeriodicTask } from '../../common/periodic-task.js';
import type { JobStore, ReapedJob } from '../job-store.interface.js';
import { JobLeaseExpiredError } from '../../errors/job-lease-expired.error.js';
import type { JobEvent } from '../queue-backend.interface.js';

/** Upper bound on statements per run, so one run over a huge backlog stays bounded. */
const MAX_BATCHES_PER_RUN = 20;

/**
 * Returns a queue's jobs whose lease expired (their worker died, hung or lost the database) to the
 * queue without using up the attempt that stalled, or fails them once they have stalled more than
 * `maxStalls` times. Each worker runs
 * one for its queue on an unref'd timer; a try-lock per queue lets one process reap at a time while
 * the others skip. Reports `stalled` for every reaped job and `failed` for those that ran out.
 */
export class JobStoreReaper {
  private readonly task: PeriodicTask;

  constructor(
    private readonly store: JobStore,
    private readonly queue: string,
    private readonly settings: { reapIntervalMs: number; reapBatchSize: number; maxStalls: number },
    private readonly onEvent: (event: JobEvent) => void,
    private readonly logger: Logger,
    private readonly outage: OutageLog,
  ) {
    this.task = new PeriodicTask(this.settings.reapIntervalMs, () => this.reap(), (error) =>
      this.outage.failed(`reaping expired leases of queue '${this.queue}'`, error),
    );
  }

  /** Reaps at once (jobs left by a worker that died before this one started), then on the interval. */
  start(): void {
    this.task.start(true);
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One run; resolves to the number of jobs reaped. Public so tests can trigger it. */
  async reap(): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      const reaped = await this.store.reap(this.queue, this.settings.reapBatchSize, this.settings.maxStalls);
      this.outage.succeeded();
      for (const job of reaped) this.report(job);
      total += reaped.length;
      if (reaped.length < this.settings.reapBatchSize) break;
    }
    return total;
  }

  private report(job: ReapedJob): void {
    try {
      // A job that never started is handed back, not stalled.
      if (job.stalled) this.onEvent({ type: 'stalled', queue: this.queue, jobId: job.id, name: job.name });
      if (job.state === 'cancelled') {
        this.onEvent({ type: 'cancelled', queue: this.queue, jobId: job.id, name: job.name, attempt: job.attemptsMade });
      } else if (job.state === 'failed') {
        this.onEvent({
          type: 'failed',
          queue: this.queue,
          jobId: job.id,
          name: job.name,
          attempt: job.attemptsMade,
          error: new JobLeaseExpiredError(this.queue, job.id, this.settings.maxStalls),
        });
      }
    } catch (error) {
      this.logger.warn(`queue '${this.queue}': an event listener threw: ${errorMessage(error)}`);
    }
  }
}
