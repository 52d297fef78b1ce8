import type { RepeatOptions } from 'bullmq';
import { cronOf } from '../../common/cron.js';

/**
 * BullMQ's `repeatStrategy` with croner, the library the Postgres scheduler and the boot checks
 * use, so a cron expression means the same on every provider (BullMQ's default, cron-parser, reads
 * some expressions differently: a 02:30 on a spring-forward day runs at 03:30 there, at 03:00 here,
 * and it refuses some croner accepts). Strictly after `millis`, from `startDate` when that is later.
 */
export function cronerRepeatStrategy(millis: number, opts: RepeatOptions): number | undefined {
  if (!opts.pattern) return undefined;
  const cron = cronOf(opts.pattern, opts.tz ?? 'UTC');
  const start = opts.startDate === undefined ? Number.NaN : new Date(opts.startDate).getTime();
  const from = start > millis ? start - 1 : millis;
  return cron.nextRun(new Date(from))?.getTime();
}
