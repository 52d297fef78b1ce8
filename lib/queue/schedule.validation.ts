import { assertJsonValue } from '../common/json-value.js';
import { isPrintableText } from '../common/well-formed-text.js';
import { InvalidJobNameError } from '../errors/invalid-job-name.error.js';
import { InvalidJobOptionError } from '../errors/invalid-job-option.error.js';
import { MAX_JOB_ID_LENGTH } from './assert-job-names.js';
import type { JobOptions } from './job-options.interface.js';
import { asRecord, checkJobOptions, rejectUnknown, toNewJob, type ResolvedJobDefaults } from './job-options.validation.js';
import type { NewSchedule, ScheduleTimingSpec } from './new-schedule.interface.js';
import type { JobSchedule, ScheduleCatchUp, ScheduleSpec } from './schedule-options.interface.js';
import { MIN_EVERY_MS, nextTickAfter, parseCron } from './schedule-timing.js';

const SCHEDULE_KEYS = ['cron', 'tz', 'every', 'data', 'catchUp'];
const SPEC_KEYS = [...SCHEDULE_KEYS, 'queue', 'name', 'options'];
const TICK_JOB_OPTIONS = ['priority', 'attempts', 'backoff', 'leaseMs', 'runTimeoutMs', 'removeOnComplete', 'removeOnFail'];
const MAX_EVERY_MS = 2_147_483_647;

/** The id of a `@Job` schedule: user ids cannot contain ':', so it never meets one. */
export function codeScheduleId(queue: string, name: string): string {
  return `job:${queue}:${name}`;
}

/** A schedule id given to `upsertSchedule` or `removeSchedule`: up to 256 printable characters, no ':'. */
export function assertScheduleId(id: unknown): asserts id is string {
  if (!isPrintableText(id, MAX_JOB_ID_LENGTH)) {
    throw new InvalidJobNameError('id', id, `a schedule id is 1 to ${MAX_JOB_ID_LENGTH} printable characters`);
  }
  if (id.includes(':')) throw new InvalidJobNameError('id', id, "':' is kept for the ids of @Job schedules (job:<queue>:<name>)");
}

/** A schedule id as `removeSchedule` takes it: a user id, or the id of a `@Job` schedule. */
export function assertAnyScheduleId(id: unknown): asserts id is string {
  if (!isPrintableText(id, 512)) {
    throw new InvalidJobNameError('id', id, 'a schedule id is 1 to 512 printable characters');
  }
}

/** Checks a `@Job` schedule (`source` names the method) and returns its timing. */
export function checkJobSchedule(schedule: unknown, source: string): ScheduleTimingSpec {
  const record = asRecord(schedule, source, 'schedule', '{ cron, tz?, data?, catchUp? } or { every, data?, catchUp? }');
  rejectUnknown(record, SCHEDULE_KEYS, source, 'schedule.');
  return checkTiming(record, source);
}

/** Checks an `upsertSchedule` spec. */
export function checkScheduleSpec(spec: unknown, source: string): asserts spec is ScheduleSpec {
  const allowed = '{ name, cron | every, tz?, queue?, data?, catchUp?, options? }';
  // Unlike an `add`'s options, a spec is required: `asRecord` would read a missing one as `{}`.
  if (spec === undefined) throw new InvalidJobOptionError('spec', spec, allowed, source);
  const record = asRecord(spec, source, 'spec', allowed);
  rejectUnknown(record, SPEC_KEYS, source);
  checkTiming(record, source, '');
  if (record.options !== undefined) {
    const options = asRecord(record.options, source);
    rejectUnknown(options, TICK_JOB_OPTIONS, source, 'options.');
    checkJobOptions(options, source);
  }
}

/** The timing of a checked schedule (`@Job` or spec). */
export function timingOf(schedule: JobSchedule): ScheduleTimingSpec {
  return schedule.every !== undefined ? { kind: 'every', everyMs: schedule.every } : { kind: 'cron', cron: schedule.cron, tz: schedule.tz ?? 'UTC' };
}

/** A checked schedule as a backend takes it, its tick job built like an `add` of its name with these defaults. */
export function toNewSchedule(
  id: string,
  queue: string,
  name: string,
  schedule: JobSchedule,
  options: JobOptions,
  defaults: ResolvedJobDefaults,
  source: 'code' | 'api',
  now: number,
): NewSchedule {
  const timing = timingOf(schedule);
  const job = toNewJob(queue, name, schedule.data ?? {}, options, defaults, now, `schedule ${JSON.stringify(id)}`);
  return { id, queue, name, timing, catchUp: schedule.catchUp ?? 'last', source, job, firstRunAt: nextTickAfter(timing, now) };
}

function checkTiming(record: Record<string, unknown>, source: string, prefix = 'schedule.'): ScheduleTimingSpec {
  const { cron, tz, every } = record;
  if ((cron === undefined) === (every === undefined)) {
    throw new InvalidJobOptionError(`${prefix}cron`, cron, 'a cron expression or an every interval in ms, one of the two', source);
  }
  if (record.catchUp !== undefined && record.catchUp !== 'none' && record.catchUp !== 'last') {
    throw new InvalidJobOptionError(`${prefix}catchUp`, record.catchUp, "'none' or 'last'", source);
  }
  if (record.data !== undefined) assertJsonValue(record.data);
  if (every !== undefined) {
    if (tz !== undefined) throw new InvalidJobOptionError(`${prefix}tz`, tz, 'nothing: an every interval has no time zone', source);
    if (typeof every !== 'number' || !Number.isSafeInteger(every) || every < MIN_EVERY_MS || every > MAX_EVERY_MS) {
      throw new InvalidJobOptionError(`${prefix}every`, every, `an integer from ${MIN_EVERY_MS} to ${MAX_EVERY_MS} (ms)`, source);
    }
    return { kind: 'every', everyMs: every };
  }
  if (typeof cron !== 'string' || cron.length === 0 || cron.length > 256) {
    throw new InvalidJobOptionError(`${prefix}cron`, cron, 'a cron expression such as "0 3 * * *"', source);
  }
  if (tz !== undefined && (typeof tz !== 'string' || !knownZone(tz))) {
    throw new InvalidJobOptionError(`${prefix}tz`, tz, "an IANA time zone such as 'Europe/Paris' or 'UTC'", source);
  }
  const zone = (tz as string | undefined) ?? 'UTC';
  try {
    parseCron(cron, zone);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidJobOptionError(`${prefix}cron`, cron, `a cron expression croner reads (${reason})`, source);
  }
  return { kind: 'cron', cron, tz: zone };
}

function knownZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
