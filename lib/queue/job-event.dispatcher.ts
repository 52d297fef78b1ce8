import { Injectable, Logger } from '@nestjs/common';
import { errorMessage } from '../common/error-message.js';
import { JobRegistry, type RegisteredJobEventListener } from './job.registry.js';
import type { JobEvent } from './job-event.types.js';

/**
 * Fans a worker's events out to the `@OnJobEvent` listeners. A listener never slows or breaks the
 * worker: it is not awaited, and what it throws (or rejects with) is logged.
 */
@Injectable()
export class JobEventDispatcher {
  private readonly logger = new Logger('Ballast');
  private readonly cache = new Map<string, RegisteredJobEventListener[]>();

  constructor(private readonly registry: JobRegistry) {}

  dispatch(event: JobEvent): void {
    if (!this.registry.hasListeners) return;
    const key = `${event.type}\u0000${event.queue}`;
    let listeners = this.cache.get(key);
    if (!listeners) {
      listeners = this.registry.listenersFor(event.type, event.queue);
      this.cache.set(key, listeners);
    }
    for (const listener of listeners) {
      try {
        const returned = listener.invoke(event);
        if (returned instanceof Promise) returned.catch((error: unknown) => this.report(listener, event, error));
      } catch (error) {
        this.report(listener, event, error);
      }
    }
  }

  private report(listener: RegisteredJobEventListener, event: JobEvent, error: unknown): void {
    const message = errorMessage(error);
    this.logger.error(`@OnJobEvent('${event.type}') listener ${listener.location} threw for job ${event.jobId}: ${message}`, error instanceof Error ? error.stack : undefined);
  }
}
