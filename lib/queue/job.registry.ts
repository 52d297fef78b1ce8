import { Injectable } from '@nestjs/common';
import type { JobContext } from './job.interface.js';
import type { JobEvent, JobEventType } from './job-event.types.js';
import type { ResolvedJobDefaults } from './job-options.validation.js';
import type { JobSchedule } from './schedule-options.interface.js';
import type { JobRateLimitOptions } from './job-rate-limit-options.interface.js';

/** A discovered `@Job` method, bound to its provider instance. */
export interface RegisteredJobHandler {
  queue: string;
  name: string;
  concurrency: number;
  /** `@Job` options over the module defaults. */
  defaults: ResolvedJobDefaults;
  /** The `@Job` schedule, checked; undefined for none. */
  schedule: JobSchedule | undefined;
  /** The `@Job` rate limit, its policy known; undefined for none. */
  rateLimit: JobRateLimitOptions | undefined;
  /** How often one job may throw `RetryLaterError` before it counts as a failure. */
  maxRetryLater: number;
  /** `Class.method`, for logs and errors. */
  location: string;
  invoke(data: unknown, context: JobContext): unknown;
}

/** A discovered `@OnJobEvent` method, bound to its provider instance. */
export interface RegisteredJobEventListener {
  type: JobEventType;
  /** `undefined` listens to every queue. */
  queue: string | undefined;
  location: string;
  invoke(event: JobEvent): unknown;
}

/**
 * What discovery found in this process: `@Job` handlers by queue and name, and `@OnJobEvent`
 * listeners. Filled once by `JobExplorer` in `onModuleInit`; read by the workers and by
 * `QueueService` (for the `@Job` defaults of a name).
 */
@Injectable()
export class JobRegistry {
  private readonly handlers = new Map<string, Map<string, RegisteredJobHandler>>();
  private readonly listeners: RegisteredJobEventListener[] = [];

  /** Adds a handler; returns the one already registered for its queue and name, if any (nothing is added then). */
  addHandler(handler: RegisteredJobHandler): RegisteredJobHandler | undefined {
    let byName = this.handlers.get(handler.queue);
    if (!byName) {
      byName = new Map();
      this.handlers.set(handler.queue, byName);
    }
    const existing = byName.get(handler.name);
    if (existing) return existing;
    byName.set(handler.name, handler);
    return undefined;
  }

  addListener(listener: RegisteredJobEventListener): void {
    this.listeners.push(listener);
  }

  handler(queue: string, name: string): RegisteredJobHandler | undefined {
    return this.handlers.get(queue)?.get(name);
  }

  /** Queues that have at least one handler here, each with its handlers by job name. */
  queues(): ReadonlyMap<string, ReadonlyMap<string, RegisteredJobHandler>> {
    return this.handlers;
  }

  listenersFor(type: JobEventType, queue: string): RegisteredJobEventListener[] {
    return this.listeners.filter((l) => l.type === type && (l.queue === undefined || l.queue === queue));
  }

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }
}
