import type { Logger } from '@nestjs/common';
import { errorMessage } from '../../common/error-message.js';
import type { OutageLog } from '../../common/outage-log.js';
import { RetryBackoff } from '../../common/retry-backoff.js';
import { settlesWithin } from '../../common/settles-within.js';
import { performance } from 'node:perf_hooks';
import { JobAbortedError } from '../../errors/job-aborted.error.js';
import { JobCancelledError } from '../../errors/job-cancelled.error.js';
import type { StoredResult } from '../job-result.js';
import type { JobSignal, JobStore, JobWakeup, LeasedJob } from '../job-store.interface.js';
import type { JobProgressWriter, RunningJob } from '../running-job.interface.js';
import type { JobEvent, QueueWorker, WorkerSpec } from '../queue-backend.interface.js';
import { retryDelay } from './retry-delay.js';
import { toClaimedJob, type ClaimedJob } from './job-store.claimed-job.js';
import { JobStoreFlusher } from './job-store.flusher.js';
import { JobStoreLeaseKeeper } from './job-store.lease-keeper.js';
import { JobStoreReaper } from './job-store.reaper.js';
import type { JobStoreSettings } from './job-store.settings.js';

/** Longest wait a Node timer can take; a later wake-up is left to the poll. */
const MAX_TIMER_MS = 2_147_483_647;
/** Delayed jobs made waiting per statement; more wait for the next claim's promotion. */
const PROMOTE_BATCH = 1000;
/** Weight of the newest handler duration in the running average that sizes the buffer. */
const DURATION_WEIGHT = 0.2;
/**
 * Time a worker's shutdown gives the database before the grace period (stop listening, hand back the
 * buffer) and again after it (hand back the unfinished, write the outcomes). So a worker closes
 * within `shutdownTimeoutMs` plus twice this, whatever the database does.
 */
const SHUTDOWN_STORE_BUDGET_MS = 1500;
/** Retries of a failed claim: from 100 ms, doubling to at most 2 s, so a worker is back soon after its database. */
const CLAIM_RETRY_BASE_MS = 100;
const CLAIM_RETRY_MAX_MS = 2000;

/** What a worker shares with its backend. */
export interface JobStoreWorkerContext {
  store: JobStore;
  wakeup: JobWakeup;
  settings: JobStoreSettings;
  logger: Logger;
  /** Shared by everything of the backend that talks to the database in the background. */
  outage: OutageLog;
}

type Outcome = { ok: true; result: StoredResult } | { ok: false; error: Error };

/**
 * Runs the jobs of one queue in this process, at most `concurrency` at once.
 *
 * Claims are batched: one statement takes as many jobs as the worker has room for, its free slots
 * plus a small buffer sized to about `prefetchWindowMs` of work (large for quick jobs, nothing for
 * slow ones). It claims when a notification says jobs are ready, when half its room is free, on
 * its own retry timers, and on the poll interval; after a claim comes back short it waits for one
 * of those instead of asking again. Outcomes go to the flusher (batched writes), leases to the lease
 * keeper (heartbeat), and expired leases of dead workers to the reaper.
 */
export class JobStoreWorker implements QueueWorker {
  private readonly buffer: ClaimedJob[] = [];
  private readonly running = new Set<ClaimedJob>();
  private readonly flusher: JobStoreFlusher;
  private readonly leases: JobStoreLeaseKeeper;
  private readonly reaper: JobStoreReaper;
  /** The queue this worker runs, and the most jobs of it running here at once. */
  private readonly queue: string;
  private readonly concurrency: number;
  private claiming: Promise<void> | undefined;
  private claimAgain = false;
  /** The last claim came back short and nothing said jobs arrived since. */
  private exhausted = false;
  /** Counts wake-ups, so one that arrives while a claim is in flight is not lost. */
  private signals = 0;
  /** Counts pause notifications, so jobs claimed across a pause are handed back, not started. */
  private pauses = 0;
  /** Delayed jobs may have come due (start, poll, a wake timer): promote them before the next claim. */
  private promoteFirst = true;
  private averageMs: number | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Set while a failed claim waits to be retried; the poll leaves the retries to it. */
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly claimBackoff = new RetryBackoff(CLAIM_RETRY_BASE_MS, CLAIM_RETRY_MAX_MS);
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeTimerAt = Infinity;
  private unlisten: (() => Promise<void>) | undefined;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly context: JobStoreWorkerContext,
    private readonly spec: WorkerSpec,
    private readonly onClosed: (worker: JobStoreWorker) => void,
  ) {
    const { store, settings, logger, outage } = context;
    this.queue = spec.executor.queue;
    this.concurrency = spec.executor.concurrency;
    this.flusher = new JobStoreFlusher(store, settings.maxFlushBatch, {
      written: (job) => {
        this.leases.untrack(job);
        // Its key's slot is free: a claim that came back short may have been short of it.
        if (job.keyed) this.wake();
      },
      completed: (job, result) =>
        this.emit({ type: 'completed', queue: this.queue, jobId: job.id, name: job.name, attempt: job.attempt, result }),
      failed: (job, error) => this.emit({ type: 'failed', queue: this.queue, jobId: job.id, name: job.name, attempt: job.attempt, error }),
      cancelled: (job) => this.emit({ type: 'cancelled', queue: this.queue, jobId: job.id, name: job.name, attempt: job.attempt }),
      deferred: (_job, retryMs) => this.wakeAfter(retryMs),
      retrying: (job, error, retryMs) => {
        this.emit({
          type: 'retrying',
          queue: this.queue,
          jobId: job.id,
          name: job.name,
          attempt: job.attempt,
          error,
          nextRunAt: new Date(Date.now() + retryMs),
        });
        this.wakeAfter(retryMs);
      },
    }, logger, outage);
    this.leases = new JobStoreLeaseKeeper(store, (job) => this.onLeaseLost(job), (job) => this.cancel(job), outage);
    this.reaper = new JobStoreReaper(store, this.queue, settings, (event) => this.emit(event), logger, outage);
  }

  /**
   * Stores a running job's progress and tells in-process listeners. Progress is advisory: a write
   * the database refuses or misses is logged with the other background failures, never thrown into
   * the handler; a job whose lease is gone writes nothing (the store matches the token).
   */
  private readonly writeProgress: JobProgressWriter = async (run, value, json) => {
    const job = this.progressTarget(run);
    if (!job) return;
    this.emit({ type: 'progress', queue: this.queue, jobId: run.id, name: run.name, attempt: run.attempt, progress: value });
    try {
      await this.context.store.progress(job, json);
      this.context.outage.succeeded();
    } catch (error) {
      this.context.outage.failed(`writing the progress of job ${run.id} of queue '${this.queue}'`, error);
    }
  };

  /** The running job of this attempt, if this worker still holds it. */
  private progressTarget(run: RunningJob): ClaimedJob | undefined {
    for (const job of this.running) if (job.run === run) return job.released ? undefined : job;
    return undefined;
  }

  /** Listens first, so no notification sent after the first claim can be missed. */
  async start(): Promise<void> {
    this.unlisten = await this.context.wakeup.listen((signal) => this.onSignal(signal));
    this.pollTimer = setInterval(() => {
      if (!this.retryTimer) this.wakeForDue();
    }, this.context.settings.pollIntervalMs);
    this.pollTimer.unref();
    this.reaper.start();
    this.requestClaim();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    // Each phase that waits on the database has a budget, so a database that stopped answering
    // cannot hold app.close() for ever: what is not handed back or written in time comes back to the
    // queue when its lease runs out, as after a crash.
    let budget = Date.now() + SHUTDOWN_STORE_BUDGET_MS;
    const within = (step: Promise<unknown> | undefined) => settlesWithin(step, budget - Date.now());
    await within(Promise.allSettled([this.unlisten?.(), this.reaper.stop()]));
    // A claim in flight hands back what it gets (it sees `closed`).
    await within(this.claiming);
    await within(this.release(this.takeBuffered()));
    if (this.running.size > 0) await this.idle(this.spec.shutdownTimeoutMs);
    const unfinished = [...this.running];
    for (const job of unfinished) {
      this.letGo(job);
      job.run.abort(new JobAbortedError(this.queue, job.id, 'shutdown'));
    }
    budget = Date.now() + SHUTDOWN_STORE_BUDGET_MS;
    const handedBack = await within(this.release(unfinished));
    const drained = await within(this.flusher.drain());
    // Nothing is written after close: outcomes still pending now are left to their leases.
    this.flusher.stop();
    await within(this.leases.stop());
    if (!handedBack || !drained) {
      this.context.logger.warn(
        `queue '${this.queue}': the database did not answer during shutdown; ` +
          `${unfinished.length} handed-back job(s) and ${this.flusher.pending} outcome(s) may not be written and return when their leases run out`,
      );
    }
    this.onClosed(this);
  }

  private onSignal(signal: JobSignal): void {
    if (signal.queue !== this.queue || this.closed) return;
    if (signal.kind === 'paused') {
      this.pauses++;
      void this.release(this.takeBuffered());
    } else if (signal.kind === 'cancel') {
      const job = this.buffer.find((held) => held.ref === signal.ref) ?? [...this.running].find((held) => held.ref === signal.ref);
      if (job) this.cancel(job);
    } else if (signal.waitMs > 0) {
      this.wakeAfter(signal.waitMs);
    } else {
      this.wake();
    }
  }

  /** Something may be ready: claim if there is room. */
  private wake(): void {
    this.signals++;
    this.exhausted = false;
    this.requestClaim();
  }

  /** Delayed jobs may be due (or a notification was missed): promote, then claim. */
  private wakeForDue(): void {
    this.promoteFirst = true;
    this.wake();
  }

  /** Wakes when a delayed job or a retry falls due; one timer, for the earliest. */
  private wakeAfter(ms: number): void {
    if (ms <= 0) return this.wakeForDue();
    // One ms late rather than early: the claim compares with the server's clock.
    const at = Date.now() + ms + 1;
    if (this.closed || ms > MAX_TIMER_MS || at >= this.wakeTimerAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimerAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeTimerAt = Infinity;
      this.wakeForDue();
    }, ms + 1);
    this.wakeTimer.unref();
  }

  /** Room for jobs in hand: free slots plus the buffer the recent handler durations justify. */
  private capacity(): number {
    const { concurrency } = this;
    const { maxPrefetch, prefetchWindowMs } = this.context.settings;
    // Nothing is buffered until a handler has finished: a slow first batch must not be hoarded.
    const prefetch = this.averageMs === undefined ? 0 : Math.round((concurrency * prefetchWindowMs) / Math.max(this.averageMs, 0.001));
    return concurrency + Math.min(maxPrefetch, prefetch);
  }

  private free(): number {
    return this.capacity() - this.running.size - this.buffer.length;
  }

  /** Claim now? Not after a short claim (until woken), and not for a sliver of room unless a slot starves. */
  private shouldClaim(): boolean {
    if (this.closed || this.exhausted) return false;
    const free = this.free();
    if (free <= 0) return false;
    if (this.buffer.length === 0 && this.running.size < this.concurrency) return true;
    return free >= Math.ceil(this.capacity() / 2);
  }

  private requestClaim(): void {
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    if (!this.shouldClaim()) return;
    this.claiming = this.claimLoop().finally(() => (this.claiming = undefined));
  }

  private async claimLoop(): Promise<void> {
    do {
      this.claimAgain = false;
      const want = this.free();
      if (want <= 0) return;
      const signals = this.signals;
      const pauses = this.pauses;
      if (this.promoteFirst) await this.promote();
      // The claimed jobs that will start the moment they arrive: slots free now, after the buffered
      // jobs ahead of them. Slots only free up while the claim is out, so at least these start.
      const startNow = Math.max(0, this.concurrency - this.running.size - this.buffer.length);
      let leased: LeasedJob[];
      try {
        leased = await this.context.store.claim(this.queue, want, startNow);
      } catch (error) {
        this.claimFailed(error);
        return;
      }
      this.context.outage.succeeded();
      this.claimBackoff.reset();
      const now = Date.now();
      const { executor } = this.spec;
      const jobs = leased.map((job) => toClaimedJob(job, executor.startRun(job.id, job.name, job.attempt, job.maxAttempts, this.writeProgress, job.scheduledFor), now));
      if (this.closed || pauses !== this.pauses) {
        await this.release(jobs);
        return;
      }
      for (const job of jobs) {
        this.buffer.push(job);
        this.leases.track(job);
      }
      this.exhausted = jobs.length < want && signals === this.signals;
      this.pump();
      // Let timers and I/O run between claims: an in-process database (PGlite) can answer in
      // microtasks alone, and a busy claim loop would starve the flusher and the lease keeper.
      await new Promise<void>((resolve) => setImmediate(resolve));
    } while (!this.closed && (this.claimAgain || this.shouldClaim()));
  }

  /**
   * The database did not answer a claim (down, restarting, unreachable): try again with backoff,
   * from 100 ms up to every 2 s, for as long as it takes. The outage is logged once, and once more
   * when the database answers again; nothing here gives up, so a worker outlives any outage.
   */
  private claimFailed(error: unknown): void {
    this.exhausted = true;
    this.context.outage.failed(`claiming jobs of queue '${this.queue}'`, error);
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.wakeForDue();
    }, this.claimBackoff.next());
    this.retryTimer.unref();
  }

  /** Makes this queue's due delayed jobs waiting, and sets the wake timer for the next one. */
  private async promote(): Promise<void> {
    this.promoteFirst = false;
    try {
      const next = await this.context.store.promote(this.queue, PROMOTE_BATCH);
      this.context.outage.succeeded();
      if (next !== null) this.wakeAfter(next);
    } catch (error) {
      // Not fatal: the next claim promotes again.
      this.promoteFirst = true;
      this.context.outage.failed(`promoting delayed jobs of queue '${this.queue}'`, error);
    }
  }

  /** Starts buffered jobs while slots are free, then claims more if there is room for it. */
  private pump(): void {
    while (!this.closed && this.running.size < this.concurrency && this.buffer.length > 0) {
      this.run(this.buffer.shift()!);
    }
    if (this.shouldClaim()) this.requestClaim();
  }

  private run(job: ClaimedJob): void {
    this.running.add(job);
    job.started = true;
    const started = performance.now();
    void this.execute(job).then((outcome) => {
      // A cancelled job's attempt ended when the cancel came; what its handler did after is not recorded.
      if (!job.cancelled) this.finish(job, outcome, performance.now() - started);
    });
  }

  /**
   * The job was cancelled while this worker held it. A buffered one never ran: it is handed back,
   * which the store's cancel mark turns into `cancelled` with its attempt given back and no event,
   * as for a job cancelled while it waited. A running one has its signal aborted and its attempt
   * ends now, its slot freed, whether or not the handler stops (like a run timeout): the failure
   * written finds the mark and ends the job `cancelled`, not retried.
   */
  private cancel(job: ClaimedJob): void {
    if (job.released || job.cancelled) return;
    const index = this.buffer.indexOf(job);
    if (index >= 0) {
      this.buffer.splice(index, 1);
      this.letGo(job);
      void this.release([job]);
      this.pump();
      return;
    }
    if (!this.running.has(job)) return;
    const error = new JobCancelledError(this.queue, job.id);
    job.cancelled = true;
    job.run.abort(error);
    this.finish(job, { ok: false, error }, 0);
  }

  private async execute(job: ClaimedJob): Promise<Outcome> {
    try {
      const result = await this.spec.executor.execute(JSON.parse(job.json) as unknown, job.run, job.runTimeoutMs);
      return { ok: true, result };
    } catch (error) {
      // The executor rejects with an Error only.
      return { ok: false, error: error as Error };
    }
  }

  private finish(job: ClaimedJob, outcome: Outcome, ms: number): void {
    this.running.delete(job);
    // The lease is kept until the outcome is written (`written`): a write delayed past the lease
    // (the database slow or restarting) must not let the reaper run a finished job again.
    if (job.released) this.leases.untrack(job);
    // A cancelled attempt's length says nothing about how long the handler takes.
    if (!job.cancelled) this.averageMs = this.averageMs === undefined ? ms : this.averageMs * (1 - DURATION_WEIGHT) + ms * DURATION_WEIGHT;
    if (!job.released) {
      if (outcome.ok) this.flusher.complete(job, outcome.result);
      else this.recordFailure(job, outcome.error);
    }
    if (this.running.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    this.pump();
  }

  /** A failed attempt: deferred when the executor says so (a spent budget, `RetryLaterError`), else retried by the job's policy or failed. */
  private recordFailure(job: ClaimedJob, error: Error): void {
    const deferral = job.cancelled ? undefined : this.spec.executor.deferral(error, job.name, job.retryLaters);
    if (deferral) this.flusher.defer(job, error, deferral.delayMs, deferral.retryLater ? 'retry-later' : 'rate-limited');
    else this.flusher.fail(job, error, job.attempt < job.maxAttempts && !job.cancelled ? retryDelay(job.backoff, job.attempt) : null);
  }

  private onLeaseLost(job: ClaimedJob): void {
    const index = this.buffer.indexOf(job);
    if (index >= 0) this.buffer.splice(index, 1);
    this.letGo(job);
    job.run.abort(new JobAbortedError(this.queue, job.id, 'lease-lost'));
    this.context.logger.warn(`queue '${this.queue}': lost the lease of job ${job.id} (${job.name}); its outcome will not be recorded here`);
  }

  /** The job is no longer this worker's to report. */
  private letGo(job: ClaimedJob): void {
    job.released = true;
    this.leases.untrack(job);
  }

  private takeBuffered(): ClaimedJob[] {
    const jobs = this.buffer.splice(0);
    for (const job of jobs) this.letGo(job);
    return jobs;
  }

  /** Hands jobs back to the queue at once, their attempt uncounted. On failure their leases expire and the reaper does it. */
  private async release(jobs: ClaimedJob[]): Promise<void> {
    if (jobs.length === 0) return;
    try {
      await this.context.store.release(jobs);
    } catch (error) {
      this.context.outage.failed(`handing back ${jobs.length} job(s) of queue '${this.queue}' (their leases will expire)`, error);
    }
  }

  /** Resolves when no job runs, or after `timeoutMs`. */
  private idle(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.push(done);
    });
  }

  private emit(event: JobEvent): void {
    try {
      this.spec.onEvent(event);
    } catch (error) {
      this.context.logger.warn(`queue '${this.queue}': a job event listener threw: ${errorMessage(error)}`);
    }
  }
}
