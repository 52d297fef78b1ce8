import type { JobOptions } from './job-options.interface.js';

/**
 * What to do with ticks that came due while no process ran schedules (a deploy, an outage):
 * `last` enqueues one job, for the latest missed tick; `none` enqueues none of them. Never one job
 * per missed tick. A tick counts as missed once it is more than `MISSED_TICK_MS` late.
 */
export type ScheduleCatchUp = 'none' | 'last';

/** When a schedule ticks: a cron expression (5 fields, or 6 with seconds first) in a time zone, or a fixed interval. */
export type ScheduleTiming =
  | {
      /** `'0 3 * * *'`: 03:00 every day. Read by croner; a bad expression fails naming the job. */
      cron: string;
      /**
       * IANA time zone the expression is read in; DST changes are handled (a time that does not
       * exist runs once when the clock has jumped, a time that occurs twice runs once).
       * @default 'UTC'
       */
      tz?: string;
      every?: never;
    }
  | {
      /** Interval in ms between ticks (at least 100), counted from the epoch so every process agrees. */
      every: number;
      cron?: never;
      tz?: never;
    };

/** The schedule of a `@Job`: its timing, and the fixed data and catch-up policy of its ticks. */
export type JobSchedule = ScheduleTiming & {
  /**
   * The data of every tick's job.
   * @default {}
   */
  data?: unknown;
  /** @default 'last' */
  catchUp?: ScheduleCatchUp;
};

/** Options of a tick's job: the `add` options that make sense for a job no caller adds. */
export type ScheduledJobOptions = Pick<JobOptions, 'priority' | 'attempts' | 'backoff' | 'leaseMs' | 'runTimeoutMs' | 'removeOnComplete' | 'removeOnFail'>;

/** A schedule made at run time with `QueueService.upsertSchedule(id, spec)`. */
export type ScheduleSpec = JobSchedule & {
  /**
   * The queue its jobs go to.
   * @default 'default'
   */
  queue?: string;
  /** The job name each tick enqueues; a `@Job` handler of it runs the ticks. */
  name: string;
  /** The tick jobs' options; left out, the `@Job` defaults of the name in the enqueueing process, then the module's. */
  options?: ScheduledJobOptions;
};

/** A schedule as `getSchedules` reports it. */
export interface ScheduleInfo {
  /** Its id: the one given to `upsertSchedule`, or `job:<queue>:<name>` for a `@Job` schedule. */
  id: string;
  queue: string;
  name: string;
  cron?: string;
  tz?: string;
  every?: number;
  data: unknown;
  catchUp: ScheduleCatchUp;
  /** `code`: declared by a `@Job` (reconciled at boot); `api`: made by `upsertSchedule`. */
  source: 'code' | 'api';
  /** When the next tick is due, if the store knows it. */
  nextRunAt?: Date;
}
