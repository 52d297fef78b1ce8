import type { ProviderName } from '../common/provider-name.js';
import type { SqlClient } from '../core/connections/sql-client.js';
import type { JobCounts, JobInfo } from './job.interface.js';
import type { JobExecutor } from './job.executor.js';
import type { JobListQuery, JobPage } from './job-list.interface.js';
import type { JobEvent } from './job-event.types.js';
import type { NewJob } from './new-job.interface.js';
import type { AddedJob } from './added-job.interface.js';
import type { NewSchedule } from './new-schedule.interface.js';
import type { ScheduleInfo } from './schedule-options.interface.js';
import type { CancelOutcome } from './cancel-outcome.interface.js';

export type { JobEvent, NewJob };

/** What a runner needs to run the worker of one queue in this process. */
export interface WorkerSpec {
  /** Runs the jobs: routing by name, concurrency per handler, result and error rules. */
  executor: JobExecutor;
  /** Wait this long for running jobs on shutdown before aborting them and handing them back. */
  shutdownTimeoutMs: number;
  onEvent(event: JobEvent): void;
}

/** A running worker for one queue. */
export interface QueueWorker {
  /** Stop claiming, let running jobs finish up to `shutdownTimeoutMs`, hand the rest back to the queue at once. */
  close(): Promise<void>;
}

/**
 * The queue's backend seam: Postgres (our SKIP LOCKED runner) or BullMQ on Valkey/Redis. Narrow on
 * purpose; `QueueService` does validation, defaults and serialization in front of it.
 */
export interface QueueBackend {
  readonly provider: ProviderName;
  /**
   * Inserts jobs and returns what became of each, in order: `created`, `deduplicated` (its `jobId`
   * exists, its `unique` key is held, its throttle key names an unfinished job; the existing job's
   * id is returned) or `replaced` (a debounce add gave the waiting job of its key its data).
   */
  add(jobs: readonly NewJob[]): Promise<AddedJob[]>;
  /**
   * As `add`, inside the caller's open SQL transaction: the jobs exist if and only if it commits.
   * Only backends that keep jobs in SQL tables have it; `QueueService` refuses `client` elsewhere.
   */
  addInTransaction?(transaction: SqlClient, jobs: readonly NewJob[]): Promise<AddedJob[]>;
  getJob(queue: string, id: string): Promise<JobInfo | undefined>;
  /** One page of the jobs of `queue` in one state (see `JobPage` for the order). */
  getJobs(queue: string, query: JobListQuery): Promise<JobPage>;
  getCounts(queue: string): Promise<JobCounts>;
  /** Moves one failed job back to waiting with a fresh attempt budget; `false` if it is not failed. */
  retry(queue: string, id: string): Promise<boolean>;
  retryAllFailed(queue: string): Promise<number>;
  /** Deletes a job that is not active; `false` if absent or running. */
  remove(queue: string, id: string): Promise<boolean>;
  /**
   * Ends a waiting or delayed job as `cancelled` at once; for a running one, aborts its handler's
   * signal (in whatever process runs it) with `JobCancelledError` and ends it `cancelled`, never
   * retried. See `CancelOutcome`.
   */
  cancel(queue: string, id: string): Promise<CancelOutcome>;
  /** Paused queues accept jobs but no worker (in any process) starts one until `resume`. */
  pause(queue: string): Promise<void>;
  resume(queue: string): Promise<void>;
  /**
   * Creates or updates a schedule. Each tick is enqueued once however many processes run; only
   * processes with a worker (on the SQL runner) or the store itself (BullMQ) enqueue ticks.
   */
  upsertSchedule(schedule: NewSchedule): Promise<void>;
  /** Deletes a schedule; `false` if there was none. Jobs already enqueued stay. */
  removeSchedule(id: string): Promise<boolean>;
  getSchedules(queue: string | undefined): Promise<ScheduleInfo[]>;
  /**
   * A process's `@Job` schedules at boot: each is created or updated, and the code schedules among
   * `handled` (the schedule ids of every handler of the process) that are not in `schedules` are
   * deleted; safe when several processes boot at once. Resolves to the ids deleted.
   */
  reconcileSchedules(handled: readonly string[], schedules: readonly NewSchedule[]): Promise<string[]>;
  startWorker(spec: WorkerSpec): Promise<QueueWorker>;
  /** Closes backend resources (after every worker is closed). Connections belong to the registry. */
  close(): Promise<void>;
}

/** DI token of the active `QueueBackend`. */
export const QueueBackend = Symbol('QueueBackend');
