import type { OutageLog } from '../../common/outage-log.js';
import { settlesWithin } from '../../common/settles-within.js';
import type { JobStore, ScheduleAdvance } from '../job-store.interface.js';
import { dueTick } from '../schedule-timing.js';

/** How long `stop()` waits for a pass in progress. */
const STOP_WAIT_MS = 1000;
/** Batches per pass at most, so one pass over a huge backlog stays bounded. */
const MAX_BATCHES_PER_PASS = 50;
/** Where a schedule that will never tick again (a cron bound to a past year) is parked. */
const NEVER = Date.parse('9999-12-31T23:59:59.000Z');

/**
 * Enqueues the ticks of every schedule of the store, in each process that runs a worker. A pass
 * reads the due schedules (locking nothing), computes each one's tick and next due time with the
 * store's clock, and hands them back in one statement that enqueues a tick only for schedules whose
 * due time is still the one read: of several processes waking for the same tick, one enqueues it.
 * Ticks missed while no process ran are folded into one (`catchUp`). Between passes it sleeps until
 * the next schedule is due, at most `pollIntervalMs`, so a schedule made elsewhere is seen that
 * soon; the timer is unref'd.
 */
export class JobStoreScheduler {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<unknown> | undefined;
  private stopped = true;
  /** Bumped by every start and stop: a pass of an earlier run ends without scheduling another. */
  private generation = 0;

  constructor(
    private readonly store: JobStore,
    private readonly settings: { pollIntervalMs: number; scheduleBatchSize: number },
    private readonly outage: OutageLog,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.generation++;
    this.wake(0, this.generation);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await settlesWithin(this.pass, STOP_WAIT_MS);
  }

  /**
   * One pass: enqueues every due tick; resolves to how many jobs went in and the ms until the next
   * schedule is due (null: none). Public so tests and the benchmark can drive it.
   */
  async runOnce(): Promise<{ enqueued: number; waitMs: number | null }> {
    let enqueued = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_PASS; batch++) {
      const { due, nowMs } = await this.store.dueSchedules(this.settings.scheduleBatchSize);
      if (due.length === 0) break;
      const advances: ScheduleAdvance[] = due.map((schedule) => {
        const { tick, next } = dueTick(schedule.timing, schedule.dueMs, nowMs, schedule.catchUp);
        return { id: schedule.id, due: schedule.due, tick, next: Math.min(next, NEVER) };
      });
      enqueued += await this.store.advanceSchedules(advances);
      if (due.length < this.settings.scheduleBatchSize) break;
    }
    const waitMs = await this.store.nextScheduleWait();
    this.outage.succeeded();
    return { enqueued, waitMs };
  }

  private wake(afterMs: number, generation: number): void {
    if (this.stopped || generation !== this.generation) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pass = this.runOnce().then(
        ({ waitMs }) => this.wake(Math.min(waitMs ?? this.settings.pollIntervalMs, this.settings.pollIntervalMs), generation),
        (error: unknown) => {
          this.outage.failed('enqueueing schedule ticks', error);
          this.wake(this.settings.pollIntervalMs, generation);
        },
      );
    }, afterMs);
    this.timer.unref();
  }
}
