import type { ProviderName } from '../common/provider-name.js';
import type { SqlClient } from '../core/connections/sql-client.js';
import type { JobContext, JobCounts, JobInfo } from './job.interface.js';
import type { RetentionOption } from './job-options.interface.js';

/**
 * A job ready for a backend: validated, defaults applied (`@Job` defaults, then module defaults),
 * data already serialized to JSON text. Backends never validate or default again.
 */
export interface NewJob {
  queue: string;
  name: string;
  /** JSON text of the job data. */
  json: string;
  /** Epoch ms; undefined means now. */
  runAt: number | undefined;
  priority: number;
  attempts: number;
  backoff: { type: 'fixed' | 'exponential'; delay: number; jitter: number };
  jobId: string | undefined;
  /** Lease length in ms. */
  timeout: number;
  removeOnComplete: RetentionOption;
  removeOnFail: RetentionOption;
}

/** A handler as a worker sees it: the discovered `@Job` method bound to its instance. */
export interface JobHandler {
  name: string;
  handle(data: unknown, context: JobContext): Promise<unknown>;
}

/** What workers report; `QueueEvents` fans these out to `@OnJobEvent` listeners. */
export type JobEvent =
  | { type: 'completed'; queue: string; jobId: string; name: string; attempt: number; result: unknown }
  | { type: 'failed'; queue: string; jobId: string; name: string; attempt: number; error: Error }
  | { type: 'retrying'; queue: string; jobId: string; name: string; attempt: number; error: Error; nextRunAt: Date }
  | { type: 'stalled'; queue: string; jobId: string; name?: string };

export interface WorkerSpec {
  queue: string;
  /** Handlers by job name; a job whose name has no handler here fails with a clear error. */
  handlers: ReadonlyMap<string, JobHandler>;
  /** Jobs of this queue running at once in this process, never exceeded. */
  concurrency: number;
  /** Wait this long for running jobs on shutdown before aborting them and handing them back. */
  shutdownTimeoutMs: number;
  /**
   * The longest lease (`timeout`, ms) among this queue's handlers. Backends that hold one lease length
   * per worker (BullMQ's `lockDuration`) use it; Postgres leases each job by its own `timeout`.
   * @default the backend's default lease (`queue.defaultTimeout`)
   */
  timeout?: number;
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
   * already is not created; its existing id is returned. `client` (Postgres only) is the caller's
   * transaction.
   */
  add(jobs: readonly NewJob[], client?: SqlClient): Promise<string[]>;
  getJob(queue: string, id: string): Promise<JobInfo | undefined>;
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
