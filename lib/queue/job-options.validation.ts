import { InvalidJobOptionError } from '../errors/invalid-job-option.error.js';
import { InvalidJobNameError } from '../errors/invalid-job-name.error.js';
import { isPrintableText } from '../common/well-formed-text.js';
import { assertJobId, assertQueueName } from './assert-job-names.js';
import type { BackoffOptions, JobOptions, RetentionOption } from './job-options.interface.js';
import type { JobHandlerOptions } from './job-handler-options.interface.js';
import type { JobConcurrencyKey, NewJob } from './new-job.interface.js';
import type { JobDedupe } from './job-dedupe-options.interface.js';
import { defaultUniqueKey } from './job-dedupe-key.js';

/** Highest priority value (the lowest urgency); BullMQ's limit, kept on every provider. */
export const MAX_PRIORITY = 2_097_152;
/** Longest lease or backoff delay; Node timers cannot wait longer. */
const MAX_TIMER_MS = 2_147_483_647;
const MAX_LEASE_MS = MAX_TIMER_MS;
const MIN_LEASE_MS = 1000;
/** Shortest run timeout: below it a timer's own jitter is a large part of the limit. */
const MIN_RUN_TIMEOUT_MS = 10;
/** Longest `delay`: 100 years. Anything longer is a bug in the caller, and must not reach a date past 9999. */
export const MAX_DELAY = 100 * 365.25 * 24 * 3600 * 1000;
/** `runAt` range: dates every store and ISO-8601 text (four-digit years) can hold. */
const EARLIEST_RUN_AT = 0;
const LATEST_RUN_AT = Date.parse('9999-12-31T23:59:59.999Z');
const MAX_CONCURRENCY = 1000;
/** Highest limit of a concurrency key. */
const MAX_KEY_LIMIT = 100_000;
/** Longest `unique`, `debounce` or `throttle` key; it is part of a Redis key and a Postgres index entry. */
export const MAX_DEDUPE_KEY_LENGTH = 256;

/** What a job falls back on when `add` leaves an option out: the `@Job` defaults, then these. */
export interface ResolvedJobDefaults {
  attempts: number;
  backoff: NewJob['backoff'];
  leaseMs: number;
  /** null: no run-time limit. */
  runTimeoutMs: number | null;
  removeOnComplete: RetentionOption;
  removeOnFail: RetentionOption;
  /** The `@Job`'s concurrency across processes: its limit, and its key function (none: the job's name). */
  concurrency: { limit: number; key: ((data: never) => string) | undefined } | null;
}

/** The option-level defaults of jobs; `leaseMs` comes from `queue.defaultLeaseMs`. */
export function moduleJobDefaults(defaultLeaseMs: number): ResolvedJobDefaults {
  return {
    attempts: 1,
    // Retrying at once mostly hits the same outage; doubling from a second gives it room.
    backoff: { type: 'exponential', delay: 1000, jitter: 0 },
    leaseMs: defaultLeaseMs,
    runTimeoutMs: null,
    removeOnComplete: true,
    removeOnFail: false,
    concurrency: null,
  };
}

const ADD_OPTIONS = [
  'delay',
  'runAt',
  'priority',
  'attempts',
  'backoff',
  'jobId',
  'unique',
  'debounce',
  'throttle',
  'leaseMs',
  'runTimeoutMs',
  'removeOnComplete',
  'removeOnFail',
  'concurrencyKey',
  'concurrencyLimit',
  'client',
];
/** `schedule` is checked by the explorer (`checkJobSchedule`), which knows the job it belongs to. */
const HANDLER_OPTIONS = [
  'queue',
  'concurrency',
  'attempts',
  'backoff',
  'leaseMs',
  'runTimeoutMs',
  'removeOnComplete',
  'removeOnFail',
  'schedule',
  'rateLimit',
  'maxRetryLater',
];
/** `maxRetryLater` when a `@Job` leaves it out, and the most it may be. */
export const DEFAULT_MAX_RETRY_LATER = 25;
const MAX_RETRY_LATER = 10_000;

/** Checks the options of one `add`; throws `InvalidJobOptionError` (or `InvalidJobNameError` for `jobId`). */
export function checkJobOptions(options: unknown, source: string): asserts options is JobOptions {
  const record = asRecord(options, source);
  rejectUnknown(record, ADD_OPTIONS, source);
  if (record.delay !== undefined && record.runAt !== undefined) {
    throw new InvalidJobOptionError('delay', record.delay, 'delay or runAt, not both', source);
  }
  if (record.delay !== undefined) checkInteger(record.delay, 'delay', 0, MAX_DELAY, source);
  if (record.runAt !== undefined) {
    const time = record.runAt instanceof Date ? record.runAt.getTime() : Number.NaN;
    if (!(time >= EARLIEST_RUN_AT && time <= LATEST_RUN_AT)) {
      throw new InvalidJobOptionError('runAt', record.runAt, 'a valid Date between 1970 and the end of 9999', source);
    }
  }
  if (record.priority !== undefined) checkInteger(record.priority, 'priority', 0, MAX_PRIORITY, source);
  if (record.jobId !== undefined) assertJobId(record.jobId);
  checkDedupe(record, source);
  if (record.concurrencyKey !== undefined) checkDedupeKey(record.concurrencyKey, 'concurrencyKey', source);
  if (record.concurrencyLimit !== undefined) checkInteger(record.concurrencyLimit, 'concurrencyLimit', 1, MAX_KEY_LIMIT, source);
  if (record.client !== undefined) {
    const client = record.client as { query?: unknown } | null;
    if (typeof client !== 'object' || client === null || typeof client.query !== 'function') {
      throw new InvalidJobOptionError('client', record.client, 'a pg client (or PGlite transaction) with a query() method', source);
    }
  }
  checkShared(record, source);
}

/** Checks `@Job` options at bootstrap; `source` names the method, e.g. `@Job on MailHandler.send`. */
export function checkHandlerOptions(options: unknown, source: string): asserts options is JobHandlerOptions {
  const record = asRecord(options, source);
  rejectUnknown(record, HANDLER_OPTIONS, source);
  if (record.queue !== undefined) {
    try {
      assertQueueName(record.queue);
    } catch (error) {
      if (error instanceof InvalidJobNameError) throw new InvalidJobOptionError('queue', record.queue, error.reason, source);
      throw error;
    }
  }
  if (typeof record.concurrency === 'object' && record.concurrency !== null) {
    const spec = asRecord(record.concurrency, source, 'concurrency');
    rejectUnknown(spec, ['limit', 'key', 'perProcess'], source, 'concurrency.');
    checkInteger(spec.limit, 'concurrency.limit', 1, MAX_KEY_LIMIT, source);
    if (spec.key !== undefined && typeof spec.key !== 'function') {
      throw new InvalidJobOptionError('concurrency.key', spec.key, 'a function from the job data to the concurrency key', source);
    }
    if (spec.perProcess !== undefined) checkInteger(spec.perProcess, 'concurrency.perProcess', 1, MAX_CONCURRENCY, source);
  } else if (record.concurrency !== undefined) {
    checkInteger(record.concurrency, 'concurrency', 1, MAX_CONCURRENCY, source);
  }
  if (record.maxRetryLater !== undefined) checkInteger(record.maxRetryLater, 'maxRetryLater', 0, MAX_RETRY_LATER, source);
  if (record.rateLimit !== undefined) {
    const rateLimit = asRecord(record.rateLimit, source, 'rateLimit');
    rejectUnknown(rateLimit, ['policy', 'key'], source, 'rateLimit.');
    if (typeof rateLimit.policy !== 'string' || rateLimit.policy.length === 0) {
      throw new InvalidJobOptionError('rateLimit.policy', rateLimit.policy, 'the name of a policy of rateLimit.policies', source);
    }
    if (rateLimit.key !== undefined && typeof rateLimit.key !== 'function') {
      throw new InvalidJobOptionError('rateLimit.key', rateLimit.key, 'a function from the job data to the budget key', source);
    }
  }
  checkShared(record, source);
}

/**
 * Options after defaults, as a backend receives them. Inputs are already checked, but for the
 * concurrency key a `@Job` computes from the data (`InvalidJobOptionError` naming `source`).
 */
export function toNewJob(
  queue: string,
  name: string,
  data: unknown,
  options: JobOptions,
  defaults: ResolvedJobDefaults,
  now: number,
  source: string,
): NewJob {
  const dedupe = toDedupe(name, data, options);
  const runAt =
    dedupe !== null && dedupe.mode !== 'unique'
      ? now + (dedupe.mode === 'debounce' ? dedupe.delayMs : dedupe.forMs)
      : options.runAt !== undefined
        ? options.runAt.getTime()
        : options.delay
          ? now + options.delay
          : undefined;
  return {
    queue,
    name,
    data,
    runAt,
    priority: options.priority ?? 0,
    attempts: options.attempts ?? defaults.attempts,
    backoff: options.backoff === undefined ? defaults.backoff : normalizeBackoff(options.backoff),
    jobId: options.jobId,
    dedupe,
    leaseMs: options.leaseMs ?? defaults.leaseMs,
    runTimeoutMs: options.runTimeoutMs ?? defaults.runTimeoutMs,
    removeOnComplete: options.removeOnComplete ?? defaults.removeOnComplete,
    removeOnFail: options.removeOnFail ?? defaults.removeOnFail,
    concurrency: toConcurrencyKey(name, data, options, defaults, source),
  };
}

/**
 * The job's concurrency key and limit: `concurrencyKey`, else the `@Job`'s key of the data (else
 * its name); `concurrencyLimit`, else the `@Job`'s limit. A key without a limit is refused.
 */
function toConcurrencyKey(name: string, data: unknown, options: JobOptions, defaults: ResolvedJobDefaults, source: string): JobConcurrencyKey | null {
  const handler = defaults.concurrency;
  if (handler === null && options.concurrencyKey === undefined && options.concurrencyLimit === undefined) return null;
  const limit = options.concurrencyLimit ?? handler?.limit;
  if (limit === undefined) {
    throw new InvalidJobOptionError('concurrencyKey', options.concurrencyKey, 'a key with a limit: concurrencyLimit, or a @Job concurrency: { limit }', source);
  }
  if (options.concurrencyKey !== undefined) return { key: options.concurrencyKey, limit };
  if (handler?.key === undefined) return { key: name, limit };
  const key: unknown = (handler.key as (data: unknown) => unknown)(data);
  checkDedupeKey(key, 'concurrency.key', `${source}: the @Job's concurrency.key returned it`);
  return { key: key as string, limit };
}

function toDedupe(name: string, data: unknown, options: JobOptions): JobDedupe | null {
  if (options.unique) return { mode: 'unique', key: options.unique.key ?? defaultUniqueKey(name, data), forMs: options.unique.for };
  if (options.debounce) return { mode: 'debounce', key: options.debounce.key, delayMs: options.debounce.delay };
  if (options.throttle) return { mode: 'throttle', key: options.throttle.key, forMs: options.throttle.for };
  return null;
}

/** A handler's defaults laid over the module's. */
export function handlerJobDefaults(options: JobHandlerOptions, base: ResolvedJobDefaults): ResolvedJobDefaults {
  return {
    attempts: options.attempts ?? base.attempts,
    backoff: options.backoff === undefined ? base.backoff : normalizeBackoff(options.backoff),
    leaseMs: options.leaseMs ?? base.leaseMs,
    runTimeoutMs: options.runTimeoutMs ?? base.runTimeoutMs,
    removeOnComplete: options.removeOnComplete ?? base.removeOnComplete,
    removeOnFail: options.removeOnFail ?? base.removeOnFail,
    concurrency:
      typeof options.concurrency === 'object' ? { limit: options.concurrency.limit, key: options.concurrency.key } : base.concurrency,
  };
}

/** Jobs of a handler running at once in one process: a number `concurrency`, else its `perProcess`, else its `limit`. */
export function perProcessConcurrency(options: JobHandlerOptions): number {
  const { concurrency } = options;
  if (concurrency === undefined) return 1;
  if (typeof concurrency === 'number') return concurrency;
  return concurrency.perProcess ?? Math.min(concurrency.limit, MAX_CONCURRENCY);
}

function normalizeBackoff(backoff: BackoffOptions | number): NewJob['backoff'] {
  if (typeof backoff === 'number') return { type: 'fixed', delay: backoff, jitter: 0 };
  return { type: backoff.type, delay: backoff.delay, jitter: backoff.jitter ?? 0 };
}

/**
 * `unique`, `debounce`, `throttle`: one at most. Debounce and throttle set the run time and name the
 * job by their key, so they take no `delay`, `runAt` or `jobId`.
 */
function checkDedupe(record: Record<string, unknown>, source: string): void {
  // `add` is a hot path; most jobs have no mode.
  if (record.unique === undefined && record.debounce === undefined && record.throttle === undefined) return;
  const modes = (['unique', 'debounce', 'throttle'] as const).filter((mode) => record[mode] !== undefined);
  if (modes.length > 1) throw new InvalidJobOptionError(modes[1]!, record[modes[1]!], `${modes[0]} or ${modes[1]}, not both`, source);
  const mode = modes[0];
  if (mode === undefined) return;
  const allowed =
    mode === 'unique' ? '{ key?: string, for: ms }' : mode === 'debounce' ? '{ key: string, delay: ms }' : '{ key: string, for: ms }';
  const spec = asRecord(record[mode], source, mode, allowed);
  const span = mode === 'debounce' ? 'delay' : 'for';
  rejectUnknown(spec, ['key', span], source, `${mode}.`);
  if (spec.key !== undefined || mode !== 'unique') checkDedupeKey(spec.key, `${mode}.key`, source);
  checkInteger(spec[span], `${mode}.${span}`, 1, MAX_DELAY, source);
  if (mode === 'unique') return;
  for (const option of ['delay', 'runAt', 'jobId'] as const) {
    if (record[option] !== undefined) {
      throw new InvalidJobOptionError(option, record[option], `nothing: ${mode} sets the run time and names the job by its key`, source);
    }
  }
}

function checkDedupeKey(key: unknown, option: string, source: string): void {
  const allowed = `a string of 1 to ${MAX_DEDUPE_KEY_LENGTH} printable characters`;
  if (!isPrintableText(key, MAX_DEDUPE_KEY_LENGTH)) {
    throw new InvalidJobOptionError(option, key, allowed, source);
  }
}

function checkShared(record: Record<string, unknown>, source: string): void {
  if (record.attempts !== undefined) checkInteger(record.attempts, 'attempts', 1, 1_000_000, source);
  if (record.leaseMs !== undefined) checkInteger(record.leaseMs, 'leaseMs', MIN_LEASE_MS, MAX_LEASE_MS, source);
  if (record.runTimeoutMs !== undefined) checkInteger(record.runTimeoutMs, 'runTimeoutMs', MIN_RUN_TIMEOUT_MS, MAX_TIMER_MS, source);
  if (record.backoff !== undefined) checkBackoff(record.backoff, source);
  if (record.removeOnComplete !== undefined) checkRetention(record.removeOnComplete, 'removeOnComplete', source);
  if (record.removeOnFail !== undefined) checkRetention(record.removeOnFail, 'removeOnFail', source);
}

function checkBackoff(backoff: unknown, source: string): void {
  if (typeof backoff === 'number') {
    checkInteger(backoff, 'backoff', 0, MAX_TIMER_MS, source);
    return;
  }
  const record = asRecord(backoff, source, 'backoff', 'a number of ms or { type, delay, jitter? }');
  rejectUnknown(record, ['type', 'delay', 'jitter'], source, 'backoff.');
  if (record.type !== 'fixed' && record.type !== 'exponential') {
    throw new InvalidJobOptionError('backoff.type', record.type, "'fixed' or 'exponential'", source);
  }
  checkInteger(record.delay, 'backoff.delay', 0, MAX_TIMER_MS, source);
  if (record.jitter !== undefined && !(typeof record.jitter === 'number' && record.jitter >= 0 && record.jitter <= 1)) {
    throw new InvalidJobOptionError('backoff.jitter', record.jitter, 'a number from 0 to 1', source);
  }
}

function checkRetention(value: unknown, option: string, source: string): void {
  if (typeof value === 'boolean') return;
  if (typeof value === 'number') {
    checkInteger(value, option, 0, Number.MAX_SAFE_INTEGER, source);
    return;
  }
  const allowed = 'true, false, a count >= 0, or { age: ms, count? }';
  const record = asRecord(value, source, option, allowed);
  rejectUnknown(record, ['age', 'count'], source, `${option}.`);
  checkInteger(record.age, `${option}.age`, 0, Number.MAX_SAFE_INTEGER, source);
  if (record.count !== undefined) checkInteger(record.count, `${option}.count`, 0, Number.MAX_SAFE_INTEGER, source);
}

function checkInteger(value: unknown, option: string, min: number, max: number, source: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidJobOptionError(option, value, `an integer from ${min} to ${max}`, source);
  }
}

/** `value` as a record of options, `{}` when undefined; else `InvalidJobOptionError` naming `option`. Shared with the schedule checks. */
export function asRecord(value: unknown, source: string, option = 'options', allowed = 'an object'): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidJobOptionError(option, value, allowed, source);
  return value as Record<string, unknown>;
}

/** Refuses a key of `record` not in `known`, naming it with `prefix` (`backoff.`). Shared with the schedule checks. */
export function rejectUnknown(record: Record<string, unknown>, known: readonly string[], source: string, prefix = ''): void {
  for (const key of Object.keys(record)) {
    if (!known.includes(key)) throw new InvalidJobOptionError(`${prefix}${key}`, record[key], `one of ${known.join(', ')}`, source);
  }
}
