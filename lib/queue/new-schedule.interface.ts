import type { NewJob } from './new-job.interface.js';
import type { ScheduleCatchUp } from './schedule-options.interface.js';

/** A tick more than this late counts as missed (`catchUp: 'none'` skips it). */
export const MISSED_TICK_MS = 60_000;

/** A schedule's timing after checks: a cron expression in a zone, or an interval from the epoch. */
export type ScheduleTimingSpec = { kind: 'cron'; cron: string; tz: string } | { kind: 'every'; everyMs: number };

/**
 * A schedule ready for a backend: checked, its tick job resolved (defaults applied, data checked
 * JSON-safe). Every tick enqueues a copy of `job`, carrying the tick time.
 */
export interface NewSchedule {
  id: string;
  queue: string;
  name: string;
  timing: ScheduleTimingSpec;
  catchUp: ScheduleCatchUp;
  source: 'code' | 'api';
  /** The tick job: `runAt`, `jobId` and `dedupe` unset. */
  job: NewJob;
  /** When the first tick is due, from now, as the process computed it (stores keep their own once running). */
  firstRunAt: number;
}
