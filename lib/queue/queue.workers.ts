import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { JobEventDispatcher } from './job-event.dispatcher.js';
import { JobExecutor } from './job.executor.js';
import { JobRegistry } from './job.registry.js';
import { QueueBackend, type JobEvent, type QueueWorker } from './queue-backend.interface.js';
import { BallastConnections } from '../core/connections/ballast-connections.js';
import type { StoreHandle } from '../core/store-handle.js';
import { QUEUE_CONFIG, type ResolvedQueueConfig } from './resolve-queue-config.js';
import type { NewSchedule } from './new-schedule.interface.js';
import { codeScheduleId, toNewSchedule } from './schedule.validation.js';
import { JOB_RATE_LIMITER, type JobRateLimiter } from './job-rate-limiter.interface.js';

/** The keep-alive timer does nothing; it only has to exist. Long, so it costs no wake-ups. */
const KEEP_ALIVE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Runs one worker per queue that has `@Job` handlers in this process, from `onApplicationBootstrap`
 * (after discovery in `onModuleInit`) until `onModuleDestroy`, which drains them: running jobs get
 * `queue.shutdownTimeoutMs` to finish, the rest go back to the queue. Connections close later, in
 * `onApplicationShutdown`, so a handler that enqueues while draining still reaches its backend.
 *
 * Each queue's jobs go through one `JobExecutor` (routing, per-handler concurrency, result and error
 * rules), whichever backend runs the worker.
 */
@Injectable()
export class QueueWorkers implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Ballast');
  private readonly workers: QueueWorker[] = [];
  /**
   * Keeps the process alive while workers run. Their own timers are unref'd and their connections
   * come and go with the store, so a worker-only process (`createApplicationContext`, no HTTP server)
   * would otherwise exit, silently and with code 0, the moment its database restarted. A worker
   * process ends when the app closes, never because its store went away.
   */
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    @Inject(QueueBackend) private readonly backend: StoreHandle<QueueBackend>,
    @Inject(QUEUE_CONFIG) private readonly config: ResolvedQueueConfig,
    private readonly connections: BallastConnections,
    private readonly registry: JobRegistry,
    private readonly events: JobEventDispatcher,
    @Optional() @Inject(JOB_RATE_LIMITER) private readonly limiter?: JobRateLimiter,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const queues = this.registry.queues();
    const runWorkers = queues.size > 0 && this.config.workers;
    if (queues.size > 0 && !runWorkers) {
      this.logger.log(`Queue workers are off (queue.workers: false / BALLAST_WORKERS=false): this process only enqueues to ${[...queues.keys()].join(', ')}`);
    }
    if (!runWorkers) return;
    // Open already when the module saw the handlers at boot (the usual case); a handler it could
    // not see then (a provider built by a factory) opens it here, still before the app is ready.
    await this.connections.openAtBoot(this.backend, 'opening the queue');
    try {
      await this.reconcileSchedules(queues);
      await this.startWorkers(queues);
    } catch (error) {
      // Nothing of a failed boot may keep running (or keep the process alive).
      await this.onModuleDestroy();
      await this.backend.close();
      throw error;
    }
  }

  /**
   * The `@Job` schedules of this process, made to match the code before any worker starts: created,
   * updated, and deleted for a handler here that no longer has one. A schedule is only ever deleted
   * by a process that has its handler, so services sharing a queue never delete each other's.
   */
  private async reconcileSchedules(queues: ReturnType<JobRegistry['queues']>): Promise<void> {
    const now = Date.now();
    const handled: string[] = [];
    const schedules: NewSchedule[] = [];
    for (const [queue, handlers] of queues) {
      for (const handler of handlers.values()) {
        const id = codeScheduleId(queue, handler.name);
        handled.push(id);
        if (handler.schedule) schedules.push(toNewSchedule(id, queue, handler.name, handler.schedule, {}, handler.defaults, 'code', now));
      }
    }
    const backend = await this.backend.ready();
    const removed = await this.connections.atBoot(this.backend.provider, 'reconciling the @Job schedules', () =>
      backend.reconcileSchedules(handled, schedules),
    );
    if (schedules.length > 0) this.logger.log(`Schedules: ${schedules.map((s) => `'${s.id}'`).join(', ')} match the code`);
    if (removed.length > 0) this.logger.log(`Schedules removed from the code, deleted: ${removed.map((id) => `'${id}'`).join(', ')}`);
  }

  private async startWorkers(queues: ReturnType<JobRegistry['queues']>): Promise<void> {
    for (const [queue, handlers] of queues) {
      const executor = new JobExecutor(queue, handlers, this.logger, this.limiter);
      const spec = {
        executor,
        shutdownTimeoutMs: this.config.shutdownTimeoutMs,
        onEvent: (event: JobEvent) => this.events.dispatch(event),
      };
      const backend = await this.backend.ready();
      const worker = await this.connections.atBoot(this.backend.provider, `starting the worker of queue '${queue}'`, () => backend.startWorker(spec));
      this.workers.push(worker);
      this.keepAlive ??= setInterval(() => undefined, KEEP_ALIVE_INTERVAL_MS);
      this.logger.log(`Queue '${queue}': worker started on ${this.backend.provider}, concurrency ${executor.concurrency}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    const workers = this.workers.splice(0);
    const results = await Promise.allSettled(workers.map((worker) => worker.close()));
    for (const result of results) {
      if (result.status === 'rejected') this.logger.error(`A queue worker failed to stop cleanly: ${String(result.reason)}`);
    }
  }
}
