import type { JobEventOf, JobEventType } from './job-event.types.js';
import { recordMisplacedDecorator } from './misplaced-decorator.js';

/** Metadata key on an `@OnJobEvent` method: an array of `JobEventListenerMetadata`. */
export const JOB_EVENT_METADATA = 'ballast:job-event';

export interface OnJobEventOptions {
  /**
   * Only events of this queue.
   * @default every queue
   */
  queue?: string;
}

/** What `@OnJobEvent` records; read once at bootstrap by the explorer. */
export interface JobEventListenerMetadata {
  type: JobEventType;
  queue: string | undefined;
}

/**
 * Calls the method with each job event of type `type` raised by this process's workers:
 *
 * ```ts
 * @OnJobEvent('failed', { queue: 'mail' })
 * alert(event: JobFailedEvent) { this.log.error(`${event.name} ${event.jobId}: ${event.error.message}`); }
 * ```
 *
 * Listeners run after the job's state is recorded, do not delay the worker, and an error they throw
 * is logged, never changes the job. Events are local: a process hears the jobs its own workers ran.
 * Stack the decorator to listen to several types.
 */
export function OnJobEvent<T extends JobEventType>(type: T, options: OnJobEventOptions = {}) {
  return <M extends (event: JobEventOf<T>) => unknown>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>): void => {
    if (typeof descriptor?.value !== 'function' || typeof target === 'function') {
      recordMisplacedDecorator('@OnJobEvent', target, key);
      return;
    }
    const existing = (Reflect.getMetadata(JOB_EVENT_METADATA, descriptor.value) as JobEventListenerMetadata[] | undefined) ?? [];
    const entry: JobEventListenerMetadata = { type, queue: options.queue };
    Reflect.defineMetadata(JOB_EVENT_METADATA, [...existing, entry], descriptor.value);
  };
}
