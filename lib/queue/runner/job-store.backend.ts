import { Logger } from '@nestjs/common';
import { OutageLog } from '../../common/outage-log.js';
import type { ProviderName } from '../../common/provider-name.js';
import { settlesWithin } from '../../common/settles-within.js';
import type { SqlClient } from '../../core/connections/sql-client.js';
import type { JobCounts, JobInfo } from '../job.interface.js';
import type { JobListQuery, JobPage } from '../job-list.interface.js';
import type { AddedJob } from '../added-job.interface.js';
import type { CancelOutcome } from '../cancel-outcome.interface.js';
import type { JobStore, JobWakeup, SerializedJob } from '../job-store.interface.js';
import type { NewJob, QueueBackend, QueueWorker, WorkerSpec } from '../queue-backend.interface.js';
import { JobStoreEnqueuer } from './job-store.enqueuer.js';
import { JobStorePruner } from './job-store.pruner.js';
import { JobStoreScheduler } from './job-store.scheduler.js';
import type { NewSchedule } from '../new-schedule.interface.js';
import type { ScheduleInfo } from '../schedule-options.interface.js';
import { jobStoreSettings, type JobStoreSettings } from './job-store.settings.js';
import { JobStoreWorker } from './job-store.worker.js';

/** How long closing waits for enqueues in flight (their callers have their own deadlines). */
const ENQUEUE_DRAIN_MS = 1000;
/** Failed jobs moved per statement by `retryAllFailed`. */
const RETRY_BATCH = 1000;

/**
 * The SQL runner: `QueueBackend` over any `JobStore` (Postgres and PGlite today) and its wake-up
 * seam. Enqueues from concurrent callers share statements; workers claim and finish jobs in
 * batches, wake on the store's signals and poll as a fallback; the pruner deletes finished jobs
 * past retention. Every timing and policy decision of the SQL path lives here, none in the store.
 */
export class JobStoreBackend implements QueueBackend {
  private readonly settings: JobStoreSettings;
  private readonly logger = new Logger('Ballast');
  /** One outage log for every background statement of this backend: an outage is two lines, not one per retry. */
  private readonly outage: OutageLog;
  private readonly workers = new Set<JobStoreWorker>();
  private readonly pruner: JobStorePruner;
  private readonly scheduler: JobStoreScheduler;
  private readonly enqueuer: JobStoreEnqueuer;

  constructor(
    /** Postgres (a server or PGlite) today. */
    readonly provider: ProviderName,
    private readonly store: JobStore,
    private readonly wakeup: JobWakeup,
    /** Names the store in logs, e.g. `Postgres queue (schema "ballast")`. */
    label: string,
    settings: Partial<JobStoreSettings> = {},
  ) {
    this.settings = jobStoreSettings(settings);
    this.outage = new OutageLog(this.logger, label);
    this.pruner = new JobStorePruner(store, this.settings, this.outage);
    this.scheduler = new JobStoreScheduler(store, this.settings, this.outage);
    this.enqueuer = new JobStoreEnqueuer((jobs) => store.enqueue(jobs), this.settings.maxConcurrentEnqueues, this.settings.maxEnqueueBatch);
  }

  add(jobs: readonly NewJob[]): Promise<AddedJob[]> {
    if (jobs.length === 0) return Promise.resolve([]);
    // Serialized now, while the caller waits: data changed after `add` returns is not what is stored.
    const serialized = jobs.map(serialize);
    // A keyed job takes statements of its own in a transaction; sharing one would put every job of
    // the shared statement in that transaction too.
    if (jobs.some((job) => job.dedupe !== null)) return this.store.enqueue(serialized);
    return this.enqueuer.add(serialized);
  }

  addInTransaction(transaction: SqlClient, jobs: readonly NewJob[]): Promise<AddedJob[]> {
    if (jobs.length === 0) return Promise.resolve([]);
    // A caller's transaction is theirs alone: its jobs never share a statement with anyone's.
    return this.store.enqueue(jobs.map(serialize), transaction);
  }

  getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    return this.store.getJob(queue, id);
  }

  upsertSchedule(schedule: NewSchedule): Promise<void> {
    return this.store.upsertSchedules([schedule]);
  }

  removeSchedule(id: string): Promise<boolean> {
    return this.store.removeSchedule(id);
  }

  getSchedules(queue: string | undefined): Promise<ScheduleInfo[]> {
    return this.store.listSchedules(queue);
  }

  reconcileSchedules(handled: readonly string[], schedules: readonly NewSchedule[]): Promise<string[]> {
    return this.store.reconcileSchedules(handled, schedules);
  }

  getJobs(queue: string, query: JobListQuery): Promise<JobPage> {
    return this.store.list(queue, query);
  }

  getCounts(queue: string): Promise<JobCounts> {
    return this.store.counts(queue);
  }

  retry(queue: string, id: string): Promise<boolean> {
    return this.store.retry(queue, id);
  }

  /** Retries the jobs failed when the call started; jobs that fail again while it runs stay failed. */
  async retryAllFailed(queue: string): Promise<number> {
    let total = 0;
    let cutoff: string | null = null;
    for (;;) {
      const batch: { moved: number; cutoff: string | null } = await this.store.retryFailed(queue, RETRY_BATCH, cutoff);
      cutoff = batch.cutoff;
      total += batch.moved;
      if (batch.moved < RETRY_BATCH) return total;
    }
  }

  remove(queue: string, id: string): Promise<boolean> {
    return this.store.remove(queue, id);
  }

  cancel(queue: string, id: string): Promise<CancelOutcome> {
    return this.store.cancel(queue, id);
  }

  pause(queue: string): Promise<void> {
    return this.store.pause(queue);
  }

  resume(queue: string): Promise<void> {
    return this.store.resume(queue);
  }

  async startWorker(spec: WorkerSpec): Promise<QueueWorker> {
    const worker = new JobStoreWorker(
      { store: this.store, wakeup: this.wakeup, settings: this.settings, logger: this.logger, outage: this.outage },
      spec,
      (closed) => {
        this.workers.delete(closed);
        // Ticks are enqueued by processes that run workers, and only while they do.
        if (this.workers.size === 0) void this.scheduler.stop();
      },
    );
    await worker.start();
    this.workers.add(worker);
    this.pruner.start();
    this.scheduler.start();
    return worker;
  }

  /** Stops what the backend runs (workers, the pruner, the scheduler) and waits for enqueues in flight; the connection belongs to the registry. */
  async close(): Promise<void> {
    // Each worker bounds its own shutdown; the rest waits on the store at most a moment more.
    await Promise.all([...this.workers].map((worker) => worker.close()));
    await this.pruner.stop();
    await this.scheduler.stop();
    await settlesWithin(this.enqueuer.drain(), ENQUEUE_DRAIN_MS);
  }

  /** Deletes finished jobs past their retention (and ended `unique` keys) now, rather than on the next timer tick. */
  prune(): Promise<{ byAge: number; byCount: number; keys: number }> {
    return this.pruner.prune();
  }
}

/**
 * The job as the store inserts it: its data as JSON text, built once (the data was checked
 * JSON-safe). `QueueService` built the object for this call alone, so it is extended, not copied.
 */
function serialize(job: NewJob): SerializedJob {
  const serialized = job as SerializedJob;
  serialized.json = JSON.stringify(job.data);
  return serialized;
}
