import type { ProviderName } from '../common/provider-name.js';
import type { SqlClient } from '../core/connections/sql-client.js';
import { OpenOnce } from '../common/open-once.js';
import { BallastBackendError } from '../errors/ballast-backend.error.js';
import type { JobCounts, JobInfo } from './job.interface.js';
import type { NewJob, QueueBackend, QueueWorker, WorkerSpec } from './queue-backend.interface.js';

/**
 * Opens the real backend (connection, migrations) on first use rather than at boot. An app that
 * imports Ballast for the cache alone then never opens the queue's database, and never gets its
 * tables; an app with `@Job` handlers opens it at bootstrap, when its workers start. Opens and
 * closes as `OpenOnce` does.
 */
export class LazyQueueBackend implements QueueBackend {
  private readonly backend: OpenOnce<QueueBackend>;

  constructor(
    readonly provider: ProviderName,
    open: () => Promise<QueueBackend>,
  ) {
    this.backend = new OpenOnce(open, () => new BallastBackendError(provider, 'queue', 'the queue is closed (the application shut down)'));
  }

  /** The real backend once open, so calls on the hot path skip a promise hop. */
  get current(): QueueBackend | undefined {
    return this.backend.current;
  }

  /** The real backend, opened once. */
  ready(): Promise<QueueBackend> {
    return this.backend.ready();
  }

  async add(jobs: readonly NewJob[]): Promise<string[]> {
    return (await this.ready()).add(jobs);
  }

  async addInTransaction(transaction: SqlClient, jobs: readonly NewJob[]): Promise<string[]> {
    const backend = await this.ready();
    if (!backend.addInTransaction) throw new BallastBackendError(this.provider, 'queue', 'this queue backend has no transactional enqueue');
    return backend.addInTransaction(transaction, jobs);
  }

  async getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    return (await this.ready()).getJob(queue, id);
  }

  async getCounts(queue: string): Promise<JobCounts> {
    return (await this.ready()).getCounts(queue);
  }

  async retry(queue: string, id: string): Promise<boolean> {
    return (await this.ready()).retry(queue, id);
  }

  async retryAllFailed(queue: string): Promise<number> {
    return (await this.ready()).retryAllFailed(queue);
  }

  async remove(queue: string, id: string): Promise<boolean> {
    return (await this.ready()).remove(queue, id);
  }

  async pause(queue: string): Promise<void> {
    return (await this.ready()).pause(queue);
  }

  async resume(queue: string): Promise<void> {
    return (await this.ready()).resume(queue);
  }

  async startWorker(spec: WorkerSpec): Promise<QueueWorker> {
    return (await this.ready()).startWorker(spec);
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}
