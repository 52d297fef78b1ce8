import type { ProviderName } from '../common/provider-name.js';
import type { SqlClient } from '../core/connections/sql-client.js';
import type { JobCounts, JobInfo } from './job.interface.js';
import type { JobExecutor } from './job.executor.js';
import type { JobListQuery, JobPage } from './job-list.interface.js';
import type { JobEvent } from './job-event.types.js';
import type { NewJob } from './new-job.interface.js';

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
   * Inserts jobs in one round trip and returns their ids in order. A job whose `jobId` exists
   * already is not created; its existing id is returned.
   */
  add(jobs: readonly NewJob[]): Promise<string[]>;
  /**
   * As `add`, inside the caller's open SQL transaction: the jobs exist if and only if it commits.
   * Only backends that keep jobs in SQL tables have it; `QueueService` refuses `client` elsewhere.
   */
  addInTransaction?(transaction: SqlClient, jobs: readonly NewJob[]): Promise<string[]>;
  getJob(queue: string, id: string): Promise<JobInfo | undefined>;
  /** One page of the jobs of `queue` in one state (see `JobPage` for the order). */
  getJobs(queue: string, query: JobListQuery): Promise<JobPage>;
  getCounts(queue: string): Promise<JobCounts>;
  /** Moves one failed job back to waiting with a fresh attempt budget; `false` if it is not failed. */
  retry(queue: string, id: string): Promise<boolean>;
  retryAllFailed(queue: string): Promise<number>;
  /** Deletes a job that is not active; `false` if absent or running. */
  remove(queue: string, id: string): Promise<boolean>;
  /** Paused queues accept jobs but no worker (in any process) starts one until `resume`. */
  pause(queue: string): Promise<void>;
  resume(queue: string): Promise<void>;
  startWorker(spec: WorkerSpec): Promise<QueueWorker>;
  /** Closes backend resources (after every worker is closed). Connections belong to the registry. */
  close(): Promise<void>;
}

/** DI token of the active `QueueBackend`. */
export const QueueBackend = Symbol('QueueBackend');
