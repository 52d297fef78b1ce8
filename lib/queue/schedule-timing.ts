import { cronOf } from '../common/cron.js';
import { MISSED_TICK_MS, type ScheduleTimingSpec as Timing } from './new-schedule.interface.js';

/** Shortest `every`: below it the store round trips of one tick are most of the interval. */
export const MIN_EVERY_MS = 100;

/** What a due schedule does now: enqueue `tick` (or nothing, when null), then wait for `next`. */
export interface DueTick {
  tick: number | null;
  next: number;
}

/** Throws croner's error for an expression or zone it cannot read (the caller names the job). */
export function parseCron(cron: string, tz: string): void {
  // A zone croner does not know surfaces only when a time is computed.
  if (cronOf(cron, tz).nextRun() === null) throw new Error('it never matches a time');
}

/** The first tick strictly after `afterMs`. */
export function nextTickAfter(timing: Timing, afterMs: number): number {
  if (timing.kind === 'every') return (Math.floor(afterMs / timing.everyMs) + 1) * timing.everyMs;
  const next = cronOf(timing.cron, timing.tz).nextRun(new Date(afterMs));
  // parseCron refused expressions without a next time; one that runs out (a fixed year) ends here.
  return next === null ? Number.POSITIVE_INFINITY : next.getTime();
}

/** The latest tick at or before `atMs`, or null when there is none. */
export function lastTickAtOrBefore(timing: Timing, atMs: number): number | null {
  if (timing.kind === 'every') return Math.floor(atMs / timing.everyMs) * timing.everyMs;
  // previousRuns looks strictly before its reference; one ms later includes a tick at atMs.
  const [last] = cronOf(timing.cron, timing.tz).previousRuns(1, new Date(atMs + 1));
  return last === undefined ? null : last.getTime();
}

/**
 * A schedule due at `dueMs`, seen at `nowMs`: the one tick to enqueue, and the next due time.
 * Ticks between `dueMs` and now are folded into the latest one, so a process that was down for
 * a day runs a 5-minute schedule once, not 288 times. With `none`, that tick too is dropped when
 * it is more than `MISSED_TICK_MS` late.
 */
export function dueTick(timing: Timing, dueMs: number, nowMs: number, catchUp: 'none' | 'last'): DueTick {
  const latest = Math.max(dueMs, lastTickAtOrBefore(timing, nowMs) ?? dueMs);
  const missed = nowMs - latest > MISSED_TICK_MS;
  return { tick: catchUp === 'none' && missed ? null : latest, next: nextTickAfter(timing, Math.max(nowMs, latest)) };
}
