import { recordMisplacedDecorator } from './misplaced-decorator.js';
import type { JobHandlerOptions } from './job-handler-options.interface.js';

/** Metadata key on a `@Job` method: an array of `JobMetadata` (a method may handle several names). */
export const JOB_METADATA = 'ballast:job';

/** What `@Job` records; read once at bootstrap by the explorer, validated there. */
export interface JobMetadata {
  name: string;
  options: JobHandlerOptions;
}

/**
 * Binds a method of a singleton provider to jobs named `name`:
 *
 * ```ts
 * @Job('send-welcome-email', { queue: 'mail', concurrency: 5, attempts: 5 })
 * async send(data: { email: string }, context: JobContext) { ... }
 * ```
 *
 * The return value is stored as the job's result; a throw fails the attempt (retried while
 * attempts remain). Only writes metadata: names, options and placement are checked at bootstrap.
 */
export function Job(name: string, options: JobHandlerOptions = {}): MethodDecorator {
  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (typeof descriptor?.value !== 'function' || typeof target === 'function') {
      recordMisplacedDecorator('@Job', target, key);
      return;
    }
    const existing = (Reflect.getMetadata(JOB_METADATA, descriptor.value) as JobMetadata[] | undefined) ?? [];
    Reflect.defineMetadata(JOB_METADATA, [...existing, { name, options }], descriptor.value);
  }) as MethodDecorator;
}
