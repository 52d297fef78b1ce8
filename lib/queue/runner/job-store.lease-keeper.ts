import type { OutageLog } from '../../common/outage-log.js';
import type { JobStore } from '../job-store.interface.js';
import type { ClaimedJob } from './job-store.claimed-job.js';

/** Wait before trying again after a renewal statement failed. */
const RETRY_AFTER_MS = 250;

/**
 * The heartbeat: keeps the leases of the jobs a worker holds (running and buffered) alive, renewing
 * each at a third of its timeout, every due job in one statement. A job whose token no longer
 * matches was reaped or handed elsewhere: `onLost` gets it, and the worker aborts it. A renewed job
 * that was cancelled goes to `onCancelled` (the worker usually heard already; this catches a lost
 * notification). Quick jobs finish before their first renewal, so on the hot path this costs
 * nothing but a timer.
 */
export class JobStoreLeaseKeeper {
  private readonly held = new Set<ClaimedJob>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private renewing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: JobStore,
    private readonly onLost: (job: ClaimedJob) => void,
    private readonly onCancelled: (job: ClaimedJob) => void,
    private readonly outage: OutageLog,
  ) {}

  track(job: ClaimedJob): void {
    this.held.add(job);
    this.wakeAt(job.renewAt);
  }

  untrack(job: ClaimedJob): void {
    this.held.delete(job);
  }

  /**
   * Stops renewing; resolves once a renewal in flight is done (bound it: the database may not
   * answer). A renewal that answers after that changes nothing: no job is held any more.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.held.clear();
    await this.renewing;
  }

  private wakeAt(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.renewing = this.renewDue().finally(() => (this.renewing = undefined));
    }, Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private async renewDue(): Promise<void> {
    const now = Date.now();
    // Renew what falls due soon along with what is due, so one statement serves a whole batch.
    const due = [...this.held].filter((job) => job.renewAt <= now + job.leaseMs / 6);
    if (due.length > 0) {
      try {
        const { renewed, cancelled } = await this.store.renew(due);
        this.outage.succeeded();
        const at = Date.now();
        for (const job of due) {
          if (!this.held.has(job)) continue;
          if (renewed.has(job.ref)) {
            job.renewAt = at + job.leaseMs / 3;
            if (cancelled.has(job.ref)) this.onCancelled(job);
          } else {
            this.held.delete(job);
            this.onLost(job);
          }
        }
      } catch (error) {
        this.outage.failed(`renewing ${due.length} job lease(s)`, error);
        const retryAt = Date.now() + RETRY_AFTER_MS;
        for (const job of due) job.renewAt = retryAt;
      }
    }
    let next = Infinity;
    for (const job of this.held) next = Math.min(next, job.renewAt);
    if (next < Infinity) this.wakeAt(next);
  }
}
