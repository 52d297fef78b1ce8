import type { NewJob } from '../../lib/queue/queue-backend.interface.js';

/** A no-op job as `QueueService` hands it to a backend: module defaults, removed on completion. */
export function benchJob(queue: string, data: unknown, concurrency: NewJob['concurrency'] = null): NewJob {
  return {
    queue,
    name: 'job',
    data,
    runAt: undefined,
    priority: 0,
    attempts: 1,
    backoff: { type: 'fixed', delay: 0, jitter: 0 },
    jobId: undefined,
    dedupe: null,
    leaseMs: 30_000,
    runTimeoutMs: null,
    removeOnComplete: true,
    removeOnFail: false,
    concurrency,
  };
}
