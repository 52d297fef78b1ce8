import type { ProviderName } from '../common/provider-name.js';
import type { SqlClient } from '../connections/sql-client.js';
import { BallastBackendError } from '../errors/ballast-backend.error.js';
import type { JobCounts, JobInfo } from './job.interface.js';
import type { NewJob, QueueBackend, QueueWorker, WorkerSpec } from './queue-backend.interface.js';

/**
 * Opens the real backend (connection, migrations) on first use rather than at boot. An app that
 * imports Ballast for the cache alone then never opens the queue's database, and never gets its
 * tables; an app with `@Job` handlers opens it at bootstrap, when its workers start. A failed open is
 * not remembered, so the next call tries again.
 */
export class LazyQueueBackend implements QueueBackend {
  private opened: Promise<QueueBackend> | undefined;
  /** The real backend once open, so calls on the hot path skip a promise hop. */
  current: QueueBackend | undefined;
  /** Set by `close()`: nothing opens again (a late `add` from a handler must not open a pool nobody closes). */
  private closed = false;

  constructor(
    readonly provider: ProviderName,
    private readonly open: () => Promise<QueueBackend>,
  ) {}

  /** The real backend, opened once. */
  ready(): Promise<QueueBackend> {
    if (this.closed) return Promise.reject(new BallastBackendError(this.provider, 'queue', 'the queue is closed (the application shut down)'));
    if (!this.opened) {
      this.opened = this.open().then(
        (backend) => {
          // A close() that ran while opening has cleared the field; leave it clear so calls get refused.
          if (!this.closed) this.current = backend;
          return backend;
        },
        (error: unknown) => {
          this.opened = undefined;
          throw error;
        },
      );
    }
    return this.opened;
  }

  async add(jobs: readonly NewJob[], client?: SqlClient): Promise<string[]> {
    return (await this.ready()).add(jobs, client);
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

  async close(): Promise<void> {
    this.closed = true;
    const opened = this.opened;
    this.opened = undefined;
    this.current = undefined;
    if (!opened) return;
    const backend = await opened.catch(() => undefined);
    await backend?.close();
  }
}
