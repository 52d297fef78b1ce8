import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { ProviderName } from '../common/provider-name.js';
import type { SqlClient } from '../core/connections/sql-client.js';
import { assertJsonValue } from '../common/json-value.js';
import { CallDeadlines } from '../common/call-deadlines.js';
import { rejectedByServer } from '../core/connections/rejected-by-server.js';
import { BallastBackendError } from '../errors/ballast-backend.error.js';
import { BallastTimeoutError } from '../errors/ballast-timeout.error.js';
import { InvalidJobOptionError } from '../errors/invalid-job-option.error.js';
import { UnsupportedOptionError } from '../errors/unsupported-option.error.js';
import { assertAnyJobId, assertJobName, assertQueueName } from './assert-job-names.js';
import { JobRegistry } from './job.registry.js';
import type { BulkJob, JobCounts, JobInfo } from './job.interface.js';
import type { JobOptions } from './job-options.interface.js';
import type { AddedJob } from './added-job.interface.js';
import type { CancelOutcome } from './cancel-outcome.interface.js';
import type { JobListOptions, JobPage } from './job-list.interface.js';
import { checkJobListOptions } from './job-list.query.js';
import { checkJobOptions, moduleJobDefaults, toNewJob, type ResolvedJobDefaults } from './job-options.validation.js';
import type { StoreHandle } from '../core/store-handle.js';
import { QueueBackend, type NewJob } from './queue-backend.interface.js';
import { QUEUE_CONFIG, type ResolvedQueueConfig } from './resolve-queue-config.js';
import { DEFAULT_QUEUE } from './job.explorer.js';
import type { ScheduleInfo, ScheduleSpec } from './schedule-options.interface.js';
import { assertAnyScheduleId, assertScheduleId, checkScheduleSpec, toNewSchedule } from './schedule.validation.js';

/**
 * The injectable queue: enqueue jobs and inspect or steer queues. Inputs are checked here, once, for
 * every provider (names, JSON data, options); defaults come from the `@Job` handler of the job's name
 * in this process, then the module. Every call is bounded by `queue.timeoutMs`.
 *
 * Delivery is at least once: a job whose worker dies mid-run runs again. Make handlers idempotent,
 * and use `jobId` to make an enqueue idempotent.
 */
@Injectable()
export class QueueService implements OnApplicationShutdown {
  private readonly moduleDefaults: ResolvedJobDefaults;
  /** Bounds every call by `queue.timeoutMs`, one timer for all pending calls (`add` is a hot path). */
  private readonly deadlines: CallDeadlines;

  constructor(
    @Inject(QueueBackend) private readonly backend: StoreHandle<QueueBackend>,
    @Inject(QUEUE_CONFIG) config: ResolvedQueueConfig,
    private readonly registry: JobRegistry,
  ) {
    this.deadlines = new CallDeadlines(backend.provider, config.timeoutMs);
    this.moduleDefaults = moduleJobDefaults(config.defaultLeaseMs);
  }

  /** The backend this queue runs on. */
  get provider(): ProviderName {
    return this.backend.provider;
  }

  /**
   * Enqueues one job and resolves to its id and what the add did: `created`, `deduplicated` (an
   * existing job has its `jobId`, holds its `unique` key or is its pending `throttle` job; that
   * job's id comes back and nothing is created) or `replaced` (the waiting `debounce` job of its key
   * took this data). With `client` (Postgres only) the job is inserted inside the caller's open
   * transaction: it exists if and only if that transaction commits.
   */
  async add<Data = unknown>(queue: string, name: string, data: Data, options: JobOptions = {}): Promise<AddedJob> {
    const job = this.prepare(queue, name, data, options, 'add');
    const [added] = await this.write('add', (backend) => insert(backend, [job], options.client));
    return added!;
  }

  /**
   * Enqueues many jobs in one round trip and resolves to what `add` would, per entry, in order.
   * Every entry is checked before anything is sent; on Postgres the insert is one transaction (all
   * or none), on BullMQ it is not (a Redis failure mid-way may store part of the batch). Entries
   * with a `client` must all share that one client. A `jobId` given twice creates one job; the
   * second entry gets its id as `deduplicated`.
   */
  async addBulk(jobs: readonly BulkJob[]): Promise<AddedJob[]> {
    if (!Array.isArray(jobs)) throw new InvalidJobOptionError('jobs', jobs, 'an array of { queue, name, data, options? }', 'addBulk');
    const prepared: NewJob[] = [];
    const positions: number[] = [];
    /** Entries whose jobId an earlier entry has: they get that job, as `deduplicated`. */
    const repeats = new Set<number>();
    const firstById = new Map<string, number>();
    let client: SqlClient | undefined;
    jobs.forEach((entry, index) => {
      const options = entry.options ?? {};
      const job = this.prepare(entry.queue, entry.name, entry.data, options, `addBulk[${index}]`);
      const entryClient = options.client;
      if (index > 0 && entryClient !== client) {
        throw new InvalidJobOptionError('client', entryClient, 'the same client on every entry of one addBulk (or none)', `addBulk[${index}]`);
      }
      client = entryClient;
      const key = job.jobId === undefined ? undefined : `${job.queue}\u0000${job.jobId}`;
      const first = key === undefined ? undefined : firstById.get(key);
      if (first !== undefined) {
        positions.push(first);
        repeats.add(index);
        return;
      }
      if (key !== undefined) firstById.set(key, prepared.length);
      positions.push(prepared.length);
      prepared.push(job);
    });
    if (prepared.length === 0) return [];
    const added = await this.write('addBulk', (backend) => insert(backend, prepared, client));
    return positions.map((position, index) => (repeats.has(index) ? { id: added[position]!.id, outcome: 'deduplicated' } : added[position]!));
  }

  /** The job, or `undefined` when it does not exist (or was removed by retention). */
  async getJob<Data = unknown, Result = unknown>(queue: string, id: string): Promise<JobInfo<Data, Result> | undefined> {
    assertQueueName(queue);
    assertAnyJobId(id);
    return (await this.call('getJob', (backend) => backend.getJob(queue, id))) as JobInfo<Data, Result> | undefined;
  }

  /**
   * One page of the jobs of `queue` in one state, for browsing (failed jobs, the dead letters, most
   * of all) without loading the table. Pages are read by cursor: on Postgres a job added or moved
   * while paging neither repeats nor shifts a page; on BullMQ the cursor is a position, so a job
   * that moves between two pages may be skipped or seen twice.
   */
  async getJobs<Data = unknown, Result = unknown>(queue: string, options: JobListOptions): Promise<JobPage<Data, Result>> {
    assertQueueName(queue);
    const query = checkJobListOptions(options);
    return (await this.call('getJobs', (backend) => backend.getJobs(queue, query))) as JobPage<Data, Result>;
  }

  /** Jobs per state in `queue`. */
  getCounts(queue: string): Promise<JobCounts> {
    assertQueueName(queue);
    return this.call('getCounts', (backend) => backend.getCounts(queue));
  }

  /** Moves a failed job back to waiting with a fresh attempt budget; `false` when it is not failed. */
  retry(queue: string, id: string): Promise<boolean> {
    assertQueueName(queue);
    assertAnyJobId(id);
    return this.call('retry', (backend) => backend.retry(queue, id));
  }

  /** Retries every failed job of `queue`; resolves to how many. */
  retryAllFailed(queue: string): Promise<number> {
    assertQueueName(queue);
    return this.call('retryAllFailed', (backend) => backend.retryAllFailed(queue));
  }

  /** Deletes a job that is not running; `false` when it is absent or active. */
  remove(queue: string, id: string): Promise<boolean> {
    assertQueueName(queue);
    assertAnyJobId(id);
    return this.call('remove', (backend) => backend.remove(queue, id));
  }

  /**
   * Cancels a job. A waiting or delayed job ends `cancelled` at once and never runs. A running job
   * has its handler's `context.signal` aborted with `JobCancelledError`, in whatever process runs
   * it, and ends `cancelled` without a retry (`cancelling`); a handler that ignores its signal runs
   * on, but its outcome is no longer recorded once its worker has heard. Cancelled jobs are kept
   * by the job's failed-job retention (`removeOnFail`), listed and counted as `cancelled`.
   */
  cancel(queue: string, id: string): Promise<CancelOutcome> {
    assertQueueName(queue);
    assertAnyJobId(id);
    return this.call('cancel', (backend) => backend.cancel(queue, id));
  }

  /** Stops every worker, in every process, from starting jobs of `queue`; enqueueing still works. */
  pause(queue: string): Promise<void> {
    assertQueueName(queue);
    return this.call('pause', (backend) => backend.pause(queue));
  }

  /** Lets workers start jobs of `queue` again. */
  resume(queue: string): Promise<void> {
    assertQueueName(queue);
    return this.call('resume', (backend) => backend.resume(queue));
  }

  /**
   * Creates or updates the schedule `id` (up to 256 printable characters, no ':'): every tick of
   * `spec` enqueues a job of `spec.name` on `spec.queue` with `spec.data`, once however many
   * processes run. Ticks are enqueued while a process with workers runs (Postgres) or by the store
   * (Valkey/Redis). Updating keeps the next tick unless the timing changed.
   */
  async upsertSchedule(id: string, spec: ScheduleSpec): Promise<void> {
    assertScheduleId(id);
    checkScheduleSpec(spec, 'upsertSchedule');
    const queue = spec.queue ?? DEFAULT_QUEUE;
    assertQueueName(queue);
    assertJobName(spec.name);
    const defaults = this.registry.handler(queue, spec.name)?.defaults ?? this.moduleDefaults;
    const schedule = toNewSchedule(id, queue, spec.name, spec, spec.options ?? {}, defaults, 'api', Date.now());
    await this.call('upsertSchedule', (backend) => backend.upsertSchedule(schedule));
  }

  /** Deletes a schedule (a `@Job` one comes back at the next boot); `false` if there was none. Its jobs already enqueued stay. */
  removeSchedule(id: string): Promise<boolean> {
    assertAnyScheduleId(id);
    return this.call('removeSchedule', (backend) => backend.removeSchedule(id));
  }

  /** Every schedule, of one queue or of all, by id. */
  getSchedules(queue?: string): Promise<ScheduleInfo[]> {
    if (queue !== undefined) assertQueueName(queue);
    return this.call('getSchedules', (backend) => backend.getSchedules(queue));
  }

  /** Runs after the workers stopped (`onModuleDestroy`) and before connections close. */
  async onApplicationShutdown(): Promise<void> {
    await this.backend.close();
  }

  private prepare(queue: string, name: string, data: unknown, options: JobOptions, source: string): NewJob {
    assertQueueName(queue);
    assertJobName(name);
    checkJobOptions(options, source);
    assertJsonValue(data);
    const defaults = this.registry.handler(queue, name)?.defaults ?? this.moduleDefaults;
    return toNewJob(queue, name, data, options, defaults, Date.now(), source);
  }

  /**
   * An enqueue. When it fails in a way that does not prove nothing was written (a timeout, a lost
   * connection; not an answer refusing the statement), the job may exist all the same: the error says
   * so (`outcome: 'unknown'`), so a caller retries with a `jobId` rather than risk a second job.
   */
  private async write<T>(operation: string, work: (backend: QueueBackend) => Promise<T>): Promise<T> {
    try {
      return await this.call(operation, work);
    } catch (error) {
      throw outcomeUnknown(error, `queue.${operation}`);
    }
  }

  /** Opening the backend (first use) is not timed: PGlite alone can take seconds to start. */
  private call<T>(operation: string, work: (backend: QueueBackend) => Promise<T>): Promise<T> {
    // Not async: with the backend open (every call but the first) it adds no promise hop of its own.
    const backend = this.backend.forCall('queue.open');
    if (backend instanceof Promise) return backend.then((opened) => this.deadlines.run(`queue.${operation}`, () => work(opened)));
    return this.deadlines.run(`queue.${operation}`, () => work(backend));
  }
}

/** Inserts on the backend, inside the caller's transaction when there is one; a backend without transactions refuses it, sending nothing. */
async function insert(backend: QueueBackend, jobs: readonly NewJob[], transaction: SqlClient | undefined): Promise<AddedJob[]> {
  if (transaction === undefined) return backend.add(jobs);
  if (!backend.addInTransaction) {
    throw new UnsupportedOptionError(
      backend.provider,
      'client',
      'transactional enqueue needs a Postgres transaction to join; enqueue after your commit, with a jobId so a retry is harmless',
    );
  }
  return backend.addInTransaction(transaction, jobs);
}

/** The error of a failed write that may have been applied, marked as such. */
function outcomeUnknown(error: unknown, operation: string): unknown {
  if (!(error instanceof BallastBackendError) || error.outcome === 'unknown' || rejectedByServer(error.cause)) return error;
  // Only the write itself can have been applied; opening the backend (or a closed one) sent nothing.
  if (error.operation !== operation) return error;
  if (error instanceof BallastTimeoutError) return new BallastTimeoutError(error.provider, error.operation, error.timeoutMs, { outcome: 'unknown' });
  return new BallastBackendError(error.provider, error.operation, error.reason, { cause: error.cause, outcome: 'unknown' });
}
