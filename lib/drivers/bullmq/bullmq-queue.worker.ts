import { Logger } from '@nestjs/common';
import { DelayedError, UnrecoverableError, Worker, type Job, type JobsOptions, type RedisOptions } from 'bullmq';
import type { OutageLog } from '../../common/outage-log.js';
import { settlesWithin } from '../../common/settles-within.js';
import { JobAbortedError } from '../../errors/job-aborted.error.js';
import { JobCancelledError } from '../../errors/job-cancelled.error.js';
import { JobRateLimitedError } from '../../errors/job-rate-limited.error.js';
import { RetryLaterError } from '../../errors/retry-later.error.js';
import type { QueueWorker, WorkerSpec } from '../../queue/queue-backend.interface.js';
import type { JobProgressWriter } from '../../queue/running-job.interface.js';
import { concurrencyOf, runTimeoutOf } from './bullmq-job-options.js';
import type { BullmqConcurrencySlots } from './bullmq-concurrency-slots.js';
import type { BullmqRunningJob } from './bullmq-running-job.js';
import { CANCELLED_REASON, type BullmqCancelledJobs } from './bullmq-cancelled-jobs.js';
import { lostConnection } from './lost-connection.js';
import { CATCH_UP_KEY } from './bullmq-schedules.js';
import { cronerRepeatStrategy } from './croner-repeat-strategy.js';
import { MISSED_TICK_MS } from '../../queue/new-schedule.interface.js';

/** Where a worker connects and how it leases jobs; resolved by the backend. */
export interface BullmqWorkerOptions {
  /** Options of the worker's own connections (BullMQ opens two: commands and the blocking fetch). */
  connection: RedisOptions;
  prefix: string;
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
  /** Counts one more `RetryLaterError` of the job on its hash (`RETRY_LATERS_FIELD`); resolves to the count. */
  countRetryLater(id: string): Promise<number>;
  /** The concurrency keys' slots, shared by the backend's workers. */
  slots: BullmqConcurrencySlots;
}

/** Past the grace period, how long each forced step of shutdown (handback, close) may take. */
const FORCED_STEP_MS = 2000;
/**
 * How often a worker running jobs asks for their cancel marks: the fallback of the `cancel` channel,
 * one read of each running job's mark, sent together (a round trip per worker, not per job), so a
 * lost message delays a cancel by at most this.
 */
const CANCEL_POLL_MS = 1000;

/**
 * One BullMQ `Worker` for one queue, routing each job by name to its `@Job` handler (BullMQ has one
 * processor per worker). BullMQ events become `JobEvent`s. Nothing here adds a Redis round trip
 * per job: the routing, the context and the events are built from what the fetch returned.
 */
export class BullmqQueueWorker implements QueueWorker {
  private readonly logger = new Logger('Ballast');
  private readonly worker: Worker<unknown, unknown, string>;
  private readonly running = new Map<string, BullmqRunningJob>();
  /** Ids of tick jobs skipped by `catchUp: 'none'`, until BullMQ reports them completed. */
  private readonly skipped = new Set<string>();
  private closing: Promise<void> | undefined;
  /** Set once shutdown is forced: a connection that drops then stays down instead of retrying. */
  private giveUpConnections = false;
  /** Ids of jobs this worker cancelled mid-run, until BullMQ reports them failed. */
  private readonly cancelledHere = new Set<string>();
  /** Of those, the ones already in the cancelled record (BullMQ deletes them as it fails them). */
  private readonly recordedHere = new Set<string>();
  private polling = false;
  /**
   * Cancels heard for jobs not (yet) running here, by id, with when they were heard: BullMQ may
   * have fetched the job just before its cancel, and start it just after. Kept for a lease length.
   */
  private readonly heardCancels = new Map<string, number>();
  private readonly cancelPoll: NodeJS.Timeout;
  private readonly lockDuration: number;
  /** The concurrency key of each job running here in a slot, by id. */
  private readonly slotsHeld = new Map<string, string>();
  private readonly slotRenewal: NodeJS.Timeout;
  private renewing = false;

  constructor(
    private readonly spec: WorkerSpec,
    private readonly options: BullmqWorkerOptions,
    private readonly onClosed: (worker: BullmqQueueWorker) => void,
    /** This worker's: an outage of its connections is logged once when it starts and once when it ends. */
    private readonly outage: OutageLog,
    private readonly cancelled: BullmqCancelledJobs,
  ) {
    this.lockDuration = options.lockDuration;
    // Two parameters, no signal: BullMQ then creates no AbortController per job. Ours aborts with a
    // JobAbortedError, like the Postgres worker's.
    const processor = (job: Job, token: string | undefined) => this.process(job, token);
    const retryStrategy = options.connection.retryStrategy ?? defaultRetryStrategy;
    this.worker = new Worker<unknown, unknown, string>(spec.executor.queue, processor, {
      connection: {
        ...options.connection,
        // Worker commands wait out a Redis outage (BullMQ needs that) but not past a forced shutdown.
        retryStrategy: (times) => (this.giveUpConnections ? null : retryStrategy(times)),
      },
      prefix: options.prefix,
      concurrency: spec.executor.concurrency,
      lockDuration: options.lockDuration,
      stalledInterval: options.stalledInterval,
      maxStalledCount: options.maxStalledCount,
      settings: { repeatStrategy: cronerRepeatStrategy },
    });
    this.listen();
    this.cancelPoll = setInterval(() => void this.pollCancels(), CANCEL_POLL_MS);
    this.cancelPoll.unref();
    this.slotRenewal = setInterval(() => void this.renewSlots(), Math.max(Math.floor(this.lockDuration / 3), 100));
    this.slotRenewal.unref();
  }

  /**
   * A cancel named job `id` (heard on the `cancel` channel or found by the poll): if it runs here,
   * its signal aborts with `JobCancelledError` and its attempt ends now, failed unrecoverably with
   * `CANCELLED_REASON` (so BullMQ does not retry it), whether or not the handler stops.
   */
  cancel(id: string): void {
    const running = this.running.get(id);
    if (!running) {
      this.heardCancels.set(id, Date.now());
      return;
    }
    const { queue } = this.spec.executor;
    this.running.delete(id);
    this.cancelledHere.add(id);
    running.cancelling = true;
    running.run.abort(new JobCancelledError(queue, id));
    const fail = () => running.abandon(new UnrecoverableError(CANCELLED_REASON));
    void this.cancelled.recordRun(queue, running.job, running.job.opts.removeOnFail).then(
      () => {
        // Recorded: BullMQ deletes the job as it fails it, past its failed set.
        this.recordedHere.add(id);
        running.job.opts.removeOnFail = true;
        fail();
      },
      (error: unknown) => {
        // Not recorded: failed with its own retention, the failed event moves it (`onCancelled`).
        this.logger.warn(`BullMQ worker of queue ${JSON.stringify(queue)}: cancelled job ${id} not recorded yet: ${(error as Error).message}`);
        fail();
      },
    );
  }

  /** Asks the store which running jobs carry a cancel's mark, for a cancel message this process missed. */
  private async pollCancels(): Promise<void> {
    const now = Date.now();
    for (const [id, at] of this.heardCancels) if (now - at > this.lockDuration) this.heardCancels.delete(id);
    // One poll at a time: during an outage they would pile up in the client's offline queue.
    if (this.running.size === 0 || this.closing || this.polling) return;
    this.polling = true;
    try {
      for (const id of await this.cancelled.marked(this.spec.executor.queue, [...this.running.keys()])) this.cancel(id);
    } catch {
      // The store is down: the worker's own connections report the outage; the next poll tries again.
    } finally {
      this.polling = false;
    }
  }

  /** Resolves once both worker connections are up, so a caller knows jobs will be picked up. */
  waitUntilReady(): Promise<void> {
    return this.worker.waitUntilReady();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private process(job: Job, token: string | undefined): Promise<unknown> {
    const slot = concurrencyOf(job.opts);
    return slot === null || token === undefined ? this.run(job, token) : this.runInSlot(job, token, slot);
  }

  /**
   * A job with a concurrency key runs only in a slot of its key (`BullmqConcurrencySlots`): refused
   * one (the key runs its limit in some process), it goes back to BullMQ's delayed set under this
   * worker's lock, its attempt not counted, parked until a run of its key ends (or the first slot's
   * lease would run out); the processor ends with BullMQ's `DelayedError` (no failure, no event).
   * The slot is held while the handler runs, renewed with the worker's lease, and given back
   * however the run ends.
   */
  private async runInSlot(job: Job, token: string, slot: { key: string; limit: number }): Promise<unknown> {
    const { queue } = this.spec.executor;
    const id = job.id ?? '';
    const waitMs = await this.options.slots.acquire(queue, slot.key, slot.limit, id, this.lockDuration);
    if (waitMs !== null) {
      await job.moveToDelayed(Date.now() + Math.min(waitMs, this.lockDuration), token);
      await this.options.slots.park(queue, slot.key, slot.limit, [id]);
      throw new DelayedError();
    }
    this.slotsHeld.set(id, slot.key);
    try {
      return await this.run(job, token);
    } finally {
      this.slotsHeld.delete(id);
      void this.options.slots.release(queue, slot.key, slot.limit, id).catch((error: unknown) => {
        // Not given back now: it is when its lease runs out.
        this.logger.warn(`BullMQ worker of queue ${JSON.stringify(queue)}: concurrency slot of job ${id} not given back yet: ${(error as Error).message}`);
      });
    }
  }

  /** Extends the slots of the jobs running here to a whole lease; runs every third of one. */
  private async renewSlots(): Promise<void> {
    if (this.slotsHeld.size === 0 || this.renewing) return;
    this.renewing = true;
    try {
      const held = [...this.slotsHeld].map(([id, key]) => ({ id, key }));
      await this.options.slots.renew(this.spec.executor.queue, held, this.lockDuration);
    } catch {
      // The store is down: the worker's own connections report the outage; BullMQ's locks lapse too.
    } finally {
      this.renewing = false;
    }
  }

  private run(job: Job, token: string | undefined): Promise<unknown> {
    const { executor } = this.spec;
    const id = job.id ?? '';
    // The `retrying` event reads `delay` for `nextRunAt`. BullMQ sets it only for a non-zero retry
    // delay, so a stale one (the previous retry's, stored on the job) must not linger.
    job.delay = 0;
    const scheduledFor = tickOf(job);
    if (scheduledFor !== null && skipsMissedTick(job, scheduledFor)) {
      this.logger.log(`Queue '${executor.queue}': tick ${new Date(scheduledFor).toISOString()} of schedule '${job.repeatJobKey}' is more than ${MISSED_TICK_MS} ms late; skipped (catchUp: 'none')`);
      this.skipped.add(id);
      return Promise.resolve(null);
    }
    // BullMQ counts finished attempts; a stall does not count one.
    const run = executor.startRun(id, job.name, job.attemptsMade + 1, job.opts.attempts || 1, this.writeProgress, scheduledFor);
    const running: BullmqRunningJob = { job, token, run, abandon: () => undefined };
    this.running.set(id, running);
    // One promise around the handler's, which `abandon` can reject at shutdown or on a cancel.
    const settled = new Promise<unknown>((resolve, reject) => {
      running.abandon = reject;
      const fail = (error: unknown) => {
        // A cancel settles the run itself, once it is recorded.
        if (running.cancelling) return;
        // Still this worker's run (not abandoned at shutdown): a deferral may apply.
        const current = this.running.get(id) === running;
        if (current) this.running.delete(id);
        if (current && error instanceof RetryLaterError && token !== undefined) void this.deferOrFail(job, token, error).then(reject, reject);
        else reject(error);
      };
      try {
        executor.execute(job.data, run, runTimeoutOf(job.opts)).then((result) => {
          if (running.cancelling) return;
          if (this.running.get(id) === running) this.running.delete(id);
          resolve(result.value);
        }, fail);
      } catch (error) {
        fail(error);
      }
    });
    // A cancel heard just before BullMQ handed this job over: act on it if the job carries its mark
    // (a job added again under the same id after a cancel does not).
    if (this.heardCancels.size > 0 && this.heardCancels.delete(id)) {
      void this.cancelled.marked(executor.queue, [id]).then(
        (marked) => {
          if (marked.length > 0) this.cancel(id);
        },
        () => undefined,
      );
    }
    return settled;
  }

  /**
   * A spent budget or a `RetryLaterError`: when the executor says it is a deferral, the job moves to
   * BullMQ's delayed set for `delayMs` under this worker's lock, its attempt not counted, and the
   * processor ends with BullMQ's `DelayedError` (no failure recorded, no event); past
   * `maxRetryLater`, the error itself, a failed attempt. A handler's own requests are counted on the
   * job's hash, one round trip each, only when there is one.
   */
  private async deferOrFail(job: Job, token: string, error: RetryLaterError): Promise<Error> {
    let retryLaters = 0;
    if (!(error instanceof JobRateLimitedError)) {
      retryLaters = (await this.options.countRetryLater(job.id ?? '')) - 1;
    }
    const deferral = this.spec.executor.deferral(error, job.name, retryLaters);
    if (!deferral) return error;
    await job.moveToDelayed(Date.now() + deferral.delayMs, token);
    return new DelayedError();
  }

  /**
   * Stores a running job's progress on its BullMQ job (which also publishes BullMQ's own `progress`
   * event) and tells in-process listeners. A failed write is logged, never thrown into the handler;
   * a job this worker no longer runs writes nothing.
   */
  private readonly writeProgress: JobProgressWriter = async (run, value) => {
    const running = this.running.get(run.id);
    if (running?.run !== run) return;
    this.spec.onEvent({ type: 'progress', queue: run.queue, jobId: run.id, name: run.name, attempt: run.attempt, progress: value });
    try {
      await running.job.updateProgress(value as number | object);
    } catch (error) {
      this.logger.warn(`BullMQ worker of queue ${JSON.stringify(run.queue)}: progress of job ${run.id} not stored: ${(error as Error).message}`);
    }
  };

  private listen(): void {
    const { onEvent } = this.spec;
    const { queue } = this.spec.executor;
    this.worker.on('completed', (job, result) => {
      // A skipped tick never ran its handler: it completes in BullMQ, but is no completion to report.
      if (this.skipped.delete(job.id ?? '')) return;
      onEvent({ type: 'completed', queue, jobId: job.id ?? '', name: job.name, attempt: job.attemptsMade, result });
    });
    this.worker.on('failed', (job, error) => {
      // No job: a stalled job that hit its limit and was deleted at once by its retention.
      if (!job) return;
      if (error.message === CANCELLED_REASON || job.failedReason === CANCELLED_REASON) return this.onCancelled(job);
      const base = { queue, jobId: job.id ?? '', name: job.name, attempt: job.attemptsMade, error };
      // BullMQ stamps `finishedOn` only when the job moves to the failed set; a retry leaves it unset.
      if (job.finishedOn) onEvent({ type: 'failed', ...base });
      else onEvent({ type: 'retrying', ...base, nextRunAt: new Date(Date.now() + (job.delay || 0)) });
    });
    this.worker.on('stalled', (jobId) => onEvent({ type: 'stalled', queue, jobId }));
    this.worker.on('lockRenewalFailed', (jobIds) => {
      // Another worker may already run the job: tell the handler to stop.
      for (const jobId of jobIds) this.running.get(jobId)?.run.abort(new JobAbortedError(queue, jobId, 'lease-lost'));
    });
    this.worker.on('error', (error) => {
      // Connection errors repeat while Redis is down and BullMQ reconnects on its own: the outage is
      // logged once. During shutdown, failures to finish handed-back jobs are expected.
      if (this.closing) return;
      if (lostConnection(error)) this.outage.failed(`the BullMQ worker of queue ${JSON.stringify(queue)}`, error);
      else this.logger.warn(`BullMQ worker of queue ${JSON.stringify(queue)}: ${error.message}`);
    });
    // A (re)connection of one of the worker's two connections: the outage ends once both are up.
    this.worker.getBackend().on('ready', () => {
      void this.connectionsReady().then((ready) => {
        if (ready) this.outage.succeeded();
      });
    });
  }

  /**
   * BullMQ failed a cancelled job: one this worker cancelled mid-run, or one marked while it waited
   * and fetched here (BullMQ fails those on fetch). Either way it moves to the cancelled record;
   * only a cancelled run is reported, once its job reads as cancelled.
   */
  private onCancelled(job: Job): void {
    const id = job.id ?? '';
    const ranHere = this.cancelledHere.delete(id);
    const { queue } = this.spec.executor;
    const moved = this.recordedHere.delete(id) ? Promise.resolve() : this.cancelled.moveFailed(queue, job, ranHere);
    void moved.then(
      () => {
        if (ranHere) this.spec.onEvent({ type: 'cancelled', queue, jobId: id, name: job.name, attempt: job.attemptsMade });
      },
      (error: unknown) => this.logger.warn(`BullMQ worker of queue ${JSON.stringify(queue)}: cancelled job ${id} not moved to the cancelled record: ${(error as Error).message}`),
    );
  }

  /** Whether both worker connections (commands and the blocking fetch) are connected. */
  private async connectionsReady(): Promise<boolean> {
    const backend = this.worker.getBackend();
    const clients = await Promise.all([backend.client, backend.blockingClient].map((client) => Promise.resolve(client).catch(() => undefined)));
    return clients.every((client) => client === undefined || client.status === 'ready');
  }

  /**
   * Works around bullmq#4656: closing a worker whose blocking connection is waiting to reconnect
   * clears ioredis's reconnect timer, so the connection never reports `end` and `Worker.close()`
   * waits for ever (keeping its lock-renewal timer alive). One more connect attempt lets ioredis
   * finish the manual close it was asked for and emit `end`.
   */
  private async unstickBlockingConnection(): Promise<void> {
    const client = await this.worker.getBackend().blockingClient?.catch(() => undefined);
    if (!client || client.status !== 'reconnecting') return;
    await client.connect().then(
      () => client.disconnect(),
      () => undefined,
    );
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.cancelPoll);
    clearInterval(this.slotRenewal);
    try {
      // Stops fetching at once, waits for running jobs, then closes the worker's connections.
      const closed = this.worker.close();
      if (await settlesWithin(closed, this.spec.shutdownTimeoutMs)) return;
      this.giveUpConnections = true;
      const left = [...this.running.values()];
      const { queue } = this.spec.executor;
      for (const running of left) running.run.abort(new JobAbortedError(queue, running.job.id ?? '', 'shutdown'));
      // Hand the jobs back now, not after their lease: another worker can start them at once, and
      // the handback costs no attempt. A handler finishing later is refused by BullMQ's lock token.
      // Bounded: worker connections wait out outages, and Redis may be why we are late.
      const handback = Promise.all(left.map(({ job, token }) => job.moveToWait(token).catch(() => undefined)));
      await settlesWithin(handback, FORCED_STEP_MS);
      // Let BullMQ's loop end even if a handler ignores its signal and never settles.
      for (const { job, abandon } of left) abandon(new JobAbortedError(queue, job.id ?? '', 'shutdown'));
      if (await settlesWithin(closed, FORCED_STEP_MS)) return;
      // Redis does not answer: drop the connections, failing what waits on them. Jobs not handed
      // back return when their lease runs out, like a crashed worker's.
      this.logger.warn(`BullMQ worker of queue ${JSON.stringify(queue)}: Redis did not answer on shutdown; disconnecting`);
      await this.unstickBlockingConnection();
      await settlesWithin(this.worker.disconnect(), FORCED_STEP_MS);
      if (!(await settlesWithin(closed, FORCED_STEP_MS))) {
        this.logger.error(`BullMQ worker of queue ${JSON.stringify(queue)} did not close; leaving it behind`);
      }
    } finally {
      this.onClosed(this);
    }
  }
}

/** ioredis's own default: retry soon, at most every 2 s. */
function defaultRetryStrategy(times: number): number {
  return Math.min(times * 50, 2000);
}

/**
 * A tick of a `catchUp: 'none'` schedule whose first attempt starts more than `MISSED_TICK_MS` after
 * its time. A retry, or a run again after a stall, is never skipped: the tick was not missed.
 */
function skipsMissedTick(job: Job, scheduledFor: number): boolean {
  const options = job.opts as JobsOptions & Record<string, unknown>;
  return options[CATCH_UP_KEY] === 'none' && job.attemptsMade === 0 && !job.stalledCounter && Date.now() - scheduledFor > MISSED_TICK_MS;
}

/**
 * The tick of a job a BullMQ job scheduler made, or null: BullMQ names such a job
 * `repeat:<scheduler id>:<tick ms>` (the scheduler id may itself contain ':').
 */
function tickOf(job: Job): number | null {
  if (job.repeatJobKey === undefined || job.id === undefined) return null;
  const tick = Number(job.id.slice(job.id.lastIndexOf(':') + 1));
  return Number.isSafeInteger(tick) ? tick : null;
}
