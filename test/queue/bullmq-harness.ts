import { Redis } from 'ioredis';
import type { JobEvent, NewJob, QueueWorker } from '../../lib/queue/queue-backend.interface.js';
import { testExecutor, type TestHandler, type TestWorkerOptions } from '../support/test-executor.js';
import { BullmqQueueBackend } from '../../lib/drivers/bullmq/bullmq-queue.backend.js';
import type { BullmqQueueSettings } from '../../lib/drivers/bullmq/bullmq-queue.settings.js';
import { unlinkByPrefix } from '../../lib/core/connections/unlink-by-prefix.js';
import { TEST_REDIS_URL } from '../support/test-env.js';
import { uniquePrefix } from '../support/unique-name.js';

/** A job as `QueueService` hands it to a backend, with its defaults; tests override what they check. */
export function newJob(queue: string, name: string, data: unknown = {}, overrides: Partial<NewJob> = {}): NewJob {
  return {
    queue,
    name,
    data,
    runAt: undefined,
    priority: 0,
    attempts: 1,
    backoff: { type: 'exponential', delay: 1000, jitter: 0 },
    jobId: undefined,
    dedupe: null,
    leaseMs: 30_000,
    runTimeoutMs: null,
    removeOnComplete: true,
    removeOnFail: false,
    concurrency: null,
    ...overrides,
  };
}

export type { TestHandler };

/**
 * One BullMQ backend on its own key prefix over a client configured like the registry's, plus what
 * its workers report. `close()` closes workers, backend and client, and deletes the prefix's keys.
 */
export class BullmqHarness {
  readonly keyPrefix = uniquePrefix('bullmq');
  readonly redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1, connectionName: 'ballast' });
  readonly backend: BullmqQueueBackend;
  readonly events: JobEvent[] = [];
  private readonly workers: QueueWorker[] = [];
  private readonly extra: BullmqQueueBackend[] = [];

  constructor(settings: BullmqQueueSettings = {}) {
    this.backend = new BullmqQueueBackend('redis', this.redis, this.keyPrefix, settings);
  }

  /** A second backend on the same keys and client: another process, as far as Redis can tell. */
  sibling(settings: BullmqQueueSettings = {}): BullmqQueueBackend {
    const backend = new BullmqQueueBackend('redis', this.redis, this.keyPrefix, settings);
    this.extra.push(backend);
    return backend;
  }

  async startWorker(
    queue: string,
    handlers: Record<string, TestHandler>,
    spec: Omit<TestWorkerOptions, 'queue'> = {},
    backend: BullmqQueueBackend = this.backend,
  ): Promise<QueueWorker> {
    const { shutdownTimeoutMs = 5000, ...executorOptions } = spec;
    const worker = await backend.startWorker({
      executor: testExecutor(queue, handlers, executorOptions),
      shutdownTimeoutMs,
      onEvent: (event) => this.events.push(event),
    });
    this.workers.push(worker);
    return worker;
  }

  eventsOf<T extends JobEvent['type']>(type: T, jobId?: string): Extract<JobEvent, { type: T }>[] {
    return this.events.filter(
      (event): event is Extract<JobEvent, { type: T }> => event.type === type && (jobId === undefined || event.jobId === jobId),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((worker) => worker.close()));
    await Promise.all([this.backend, ...this.extra].map((backend) => backend.close()));
    await unlinkByPrefix(this.redis, this.keyPrefix, 1000);
    await this.redis.quit();
  }
}

/** A promise with its resolve in hand, for handlers that wait on the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
