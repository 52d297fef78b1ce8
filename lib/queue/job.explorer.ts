import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { DuplicateJobHandlerError } from '../errors/duplicate-job-handler.error.js';
import { InvalidJobNameError } from '../errors/invalid-job-name.error.js';
import { InvalidJobOptionError } from '../errors/invalid-job-option.error.js';
import { InvalidJobTargetError } from '../errors/invalid-job-target.error.js';
import { JobHandlerScopeError } from '../errors/job-handler-scope.error.js';
import { assertJobName, assertQueueName } from './assert-job-names.js';
import { JOB_METADATA, type JobMetadata } from './job.decorator.js';
import { JobRegistry, type RegisteredJobHandler } from './job.registry.js';
import type { JobContext } from './job.interface.js';
import type { JobEvent, JobEventType } from './job-event.types.js';
import { QUEUE_CONFIG, type ResolvedQueueConfig } from './resolve-queue-config.js';
import { DEFAULT_MAX_RETRY_LATER, checkHandlerOptions, handlerJobDefaults, moduleJobDefaults, perProcessConcurrency } from './job-options.validation.js';
import { JOB_RATE_LIMITER, type JobRateLimiter } from './job-rate-limiter.interface.js';
import { MISPLACED_DECORATOR_METADATA, type MisplacedDecorator } from './misplaced-decorator.js';
import { checkJobSchedule } from './schedule.validation.js';
import { JOB_EVENT_METADATA, type JobEventListenerMetadata } from './on-job-event.decorator.js';

/** The queue a `@Job` without `queue` serves. */
export const DEFAULT_QUEUE = 'default';

const EVENT_TYPES: readonly JobEventType[] = ['completed', 'failed', 'retrying', 'stalled', 'progress', 'cancelled'];

type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];
type Method = (...args: unknown[]) => unknown;

/**
 * Finds `@Job` and `@OnJobEvent` methods once, in `onModuleInit`, after Nest has built every
 * singleton and before any `onApplicationBootstrap` (where workers start). Every placement mistake
 * fails the boot here, with the class and method in the message.
 */
@Injectable()
export class JobExplorer implements OnModuleInit {
  private readonly logger = new Logger('Ballast');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: JobRegistry,
    @Inject(QUEUE_CONFIG) private readonly config: ResolvedQueueConfig,
    @Optional() @Inject(JOB_RATE_LIMITER) private readonly limiter?: JobRateLimiter,
  ) {}

  onModuleInit(): void {
    const baseDefaults = moduleJobDefaults(this.config.defaultLeaseMs);
    const owners = new Map<RegisteredJobHandler, string>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      if (wrapper.isAlias) continue;
      const ctor = classOf(wrapper);
      if (!ctor) continue;
      const misplaced = Reflect.getMetadata(MISPLACED_DECORATOR_METADATA, ctor) as MisplacedDecorator[] | undefined;
      if (misplaced?.[0]) throw new InvalidJobTargetError(misplaced[0].decorator, ctor.name, misplaced[0].member);

      const prototype = ctor.prototype as Record<string, unknown>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = prototype[method] as Method;
        const jobs = Reflect.getMetadata(JOB_METADATA, fn) as JobMetadata[] | undefined;
        const listens = Reflect.getMetadata(JOB_EVENT_METADATA, fn) as JobEventListenerMetadata[] | undefined;
        if (!jobs && !listens) continue;
        assertSingleton(wrapper, ctor.name, method);
        const instance = wrapper.instance as Record<string, Method>;
        const location = `${ctor.name}.${method}`;
        const module = (wrapper.host as { name?: string } | undefined)?.name ?? 'unknown module';
        for (const job of jobs ?? []) {
          const handler = this.toHandler(job, instance, method, location, baseDefaults);
          const existing = this.registry.addHandler(handler);
          if (existing) {
            throw new DuplicateJobHandlerError(handler.queue, handler.name, [`${existing.location} (${owners.get(existing)})`, `${location} (${module})`]);
          }
          owners.set(handler, module);
        }
        for (const listen of listens ?? []) this.addListener(listen, instance, method, location);
      }
    }
    for (const [queue, handlers] of this.registry.queues()) {
      this.logger.log(`Queue '${queue}': @Job handlers for ${[...handlers.keys()].map((n) => `'${n}'`).join(', ')}`);
    }
  }

  private toHandler(job: JobMetadata, instance: Record<string, Method>, method: string, location: string, base: ReturnType<typeof moduleJobDefaults>): RegisteredJobHandler {
    const source = `@Job on ${location}`;
    try {
      assertJobName(job.name);
    } catch (error) {
      if (error instanceof InvalidJobNameError) throw new InvalidJobOptionError('name', job.name, error.reason, source);
      throw error;
    }
    checkHandlerOptions(job.options, source);
    const options = job.options ?? {};
    if (options.schedule !== undefined) checkJobSchedule(options.schedule, source);
    if (options.rateLimit !== undefined) {
      if (!this.limiter) throw new InvalidJobOptionError('rateLimit', options.rateLimit, 'a rate limiter: BallastModule provides one', source);
      this.limiter.check(options.rateLimit.policy, source);
    }
    return {
      queue: options.queue ?? DEFAULT_QUEUE,
      name: job.name,
      concurrency: perProcessConcurrency(options),
      defaults: handlerJobDefaults(options, base),
      schedule: options.schedule,
      rateLimit: options.rateLimit,
      maxRetryLater: options.maxRetryLater ?? DEFAULT_MAX_RETRY_LATER,
      location,
      invoke: (data: unknown, context: JobContext) => instance[method]!(data, context),
    };
  }

  private addListener(listen: JobEventListenerMetadata, instance: Record<string, Method>, method: string, location: string): void {
    const source = `@OnJobEvent on ${location}`;
    if (!EVENT_TYPES.includes(listen.type)) {
      throw new InvalidJobOptionError('type', listen.type, EVENT_TYPES.map((t) => `'${t}'`).join(', '), source);
    }
    if (listen.queue !== undefined) {
      try {
        assertQueueName(listen.queue);
      } catch (error) {
        if (error instanceof InvalidJobNameError) throw new InvalidJobOptionError('queue', listen.queue, error.reason, source);
        throw error;
      }
    }
    this.registry.addListener({
      type: listen.type,
      queue: listen.queue,
      location,
      invoke: (event: JobEvent) => instance[method]!(event),
    });
  }
}

/** The class whose methods a wrapper exposes: its own class, or the class of what a factory or value provider made. */
function classOf(wrapper: InstanceWrapper): (Function & { prototype: unknown }) | undefined {
  const fromMetatype = wrapper.metatype && !wrapper.inject ? wrapper.metatype : undefined;
  const instance = wrapper.instance as unknown;
  const ctor = fromMetatype ?? (typeof instance === 'object' && instance !== null ? instance.constructor : undefined);
  if (typeof ctor !== 'function' || ctor === Object) return undefined;
  return ctor;
}

function assertSingleton(wrapper: InstanceWrapper, className: string, method: string): void {
  if (wrapper.isTransient) throw new JobHandlerScopeError(className, method, 'transient');
  if (!wrapper.isDependencyTreeStatic()) throw new JobHandlerScopeError(className, method, 'request');
}
