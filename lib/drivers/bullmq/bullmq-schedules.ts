import type { JobsOptions, Queue, RepeatOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { NewSchedule } from '../../queue/new-schedule.interface.js';
import type { ScheduleInfo } from '../../queue/schedule-options.interface.js';
import { toBullmqJobOptions } from './bullmq-job-options.js';

/** What Ballast keeps of a schedule beside BullMQ's scheduler: where it lives, and what it was made from. */
interface ScheduleEntry {
  queue: string;
  name: string;
  source: 'code' | 'api';
  timing: NewSchedule['timing'];
  catchUp: 'none' | 'last';
  data: unknown;
  /** The scheduler's spec as last sent to BullMQ; an upsert with the same one sends nothing. */
  sent: string;
}

/** Ballast's key for `catchUp` among a scheduled job's stored options (BullMQ passes unknown keys through). */
export const CATCH_UP_KEY = 'ballastCatchUp';

/**
 * Schedules on BullMQ: each is a BullMQ job scheduler on its queue, which enqueues every tick once
 * in Redis whatever the number of processes (it adds the next tick's delayed job as the current one
 * starts), naming each tick's job `repeat:<id>:<tick ms>`. BullMQ's schedulers are per queue and Ballast's
 * ids are global, so a hash `<prefix>:schedules` maps each id to its queue and spec: `removeSchedule`
 * finds the queue there, and an upsert that changes nothing sends nothing (re-sending would reset
 * an `every` schedule's phase on every boot).
 *
 * - `every` ticks on multiples of the interval since the epoch, as on Postgres (`startDate`), the
 *   first one at least a second after the upsert.
 * - Cron expressions are read by croner, in the given zone: BullMQ's Queue and Worker get
 *   `cronerRepeatStrategy` in place of cron-parser, so the ticks match the Postgres scheduler's.
 * - `catchUp`: BullMQ keeps one pending tick, so after downtime it runs once (`last`). `none` is
 *   applied when the tick's job starts: one more than `MISSED_TICK_MS` late is skipped.
 */
export class BullmqSchedules {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly queue: (name: string) => Queue,
  ) {
    this.key = `${prefix}:schedules`;
  }

  async upsert(schedule: NewSchedule): Promise<void> {
    const previous = await this.entry(schedule.id);
    const repeat = repeatOf(schedule);
    const opts = templateOptions(schedule);
    const sent = JSON.stringify({ queue: schedule.queue, name: schedule.name, timing: schedule.timing, data: schedule.job.data, opts });
    const queue = this.queue(schedule.queue);
    if (previous && previous.queue !== schedule.queue) await this.queue(previous.queue).removeJobScheduler(schedule.id);
    const unchanged = previous?.sent === sent && (await queue.getJobScheduler(schedule.id)) !== undefined;
    if (!unchanged) await queue.upsertJobScheduler(schedule.id, repeat, { name: schedule.name, data: schedule.job.data, opts });
    const entry: ScheduleEntry = {
      queue: schedule.queue,
      name: schedule.name,
      source: schedule.source,
      timing: schedule.timing,
      catchUp: schedule.catchUp,
      data: schedule.job.data,
      sent,
    };
    await this.redis.hset(this.key, schedule.id, JSON.stringify(entry));
  }

  async remove(id: string): Promise<boolean> {
    const entry = await this.entry(id);
    if (!entry) return false;
    await this.queue(entry.queue).removeJobScheduler(id);
    return (await this.redis.hdel(this.key, id)) === 1;
  }

  async list(queue: string | undefined): Promise<ScheduleInfo[]> {
    const all = await this.redis.hgetall(this.key);
    const entries = Object.keys(all)
      .sort()
      .map((id) => ({ id, entry: JSON.parse(all[id]!) as ScheduleEntry }))
      .filter(({ entry }) => queue === undefined || entry.queue === queue);
    // Every scheduler read at once: one round trip on the shared connection, not one per schedule.
    const schedulers = await Promise.all(entries.map(({ id, entry }) => this.queue(entry.queue).getJobScheduler(id)));
    return entries.map(({ id, entry }, i) => {
      const scheduler = schedulers[i];
      return {
        id,
        queue: entry.queue,
        name: entry.name,
        ...(entry.timing.kind === 'cron' ? { cron: entry.timing.cron, tz: entry.timing.tz } : { every: entry.timing.everyMs }),
        data: entry.data,
        catchUp: entry.catchUp,
        source: entry.source,
        ...(scheduler?.next === undefined ? {} : { nextRunAt: new Date(scheduler.next) }),
      };
    });
  }

  /**
   * Upserts `schedules`, then deletes the code schedules among `handled` that are not in them.
   * Every step is idempotent, so processes booting at once converge without a lock.
   */
  async reconcile(handled: readonly string[], schedules: readonly NewSchedule[]): Promise<string[]> {
    for (const schedule of schedules) await this.upsert(schedule);
    const declared = new Set(schedules.map((s) => s.id));
    const removed: string[] = [];
    for (const id of handled) {
      if (declared.has(id)) continue;
      const entry = await this.entry(id);
      if (entry?.source === 'code' && (await this.remove(id))) removed.push(id);
    }
    return removed;
  }

  private async entry(id: string): Promise<ScheduleEntry | undefined> {
    const text = await this.redis.hget(this.key, id);
    return text === null ? undefined : (JSON.parse(text) as ScheduleEntry);
  }
}

/** How far ahead an `every` schedule's first tick is set, so it is still ahead when Redis gets it. */
const FIRST_TICK_MARGIN_MS = 1000;

function repeatOf(schedule: NewSchedule): Omit<RepeatOptions, 'key'> {
  const { timing } = schedule;
  if (timing.kind === 'cron') return { pattern: timing.cron, tz: timing.tz };
  // BullMQ starts at `startDate` only if that is still ahead when the script runs (else at that
  // moment, off the grid of multiples for good): a multiple of the interval at least a second out.
  const every = timing.everyMs;
  const startDate = (Math.floor((Date.now() + FIRST_TICK_MARGIN_MS) / every) + 1) * every;
  return { every, startDate };
}

/** The tick job's options: the job's own (no id or delay: the scheduler sets those), and its catch-up policy. */
function templateOptions(schedule: NewSchedule): JobsOptions {
  const { jobId: _jobId, delay: _delay, ...opts } = toBullmqJobOptions(schedule.job, Date.now());
  if (schedule.catchUp === 'none') (opts as Record<string, unknown>)[CATCH_UP_KEY] = 'none';
  return opts;
}
