import { Logger } from '@nestjs/common';
import { JobExecutor } from '../../lib/queue/job.executor.js';
import type { JobContext } from '../../lib/queue/job.interface.js';
import type { RegisteredJobHandler } from '../../lib/queue/job.registry.js';
import { moduleJobDefaults } from '../../lib/queue/job-options.validation.js';

export type TestHandler = (data: unknown, context: JobContext) => unknown;

/** How a test worker runs: the queue, its concurrency and the lease of its handlers. */
export interface TestWorkerOptions {
  queue?: string;
  /** @default 1 */
  concurrency?: number;
  /** @default 30000 */
  leaseMs?: number;
  /** @default 5000 */
  shutdownTimeoutMs?: number;
  /** @default 25 */
  maxRetryLater?: number;
}

/**
 * The executor the module builds from `@Job` handlers, built from plain functions: every handler
 * of the queue with the same `concurrency` and lease, as a runner test needs.
 */
export function testExecutor(queue: string, handlers: Record<string, TestHandler>, options: Omit<TestWorkerOptions, 'queue' | 'shutdownTimeoutMs'> = {}): JobExecutor {
  const defaults = { ...moduleJobDefaults(options.leaseMs ?? 30_000) };
  const registered = new Map<string, RegisteredJobHandler>();
  for (const [name, invoke] of Object.entries(handlers)) {
    registered.set(name, { queue, name, concurrency: options.concurrency ?? 1, defaults, schedule: undefined, rateLimit: undefined, maxRetryLater: options.maxRetryLater ?? 25, location: `test.${name}`, invoke });
  }
  return new JobExecutor(queue, registered, new Logger('Ballast'));
}
