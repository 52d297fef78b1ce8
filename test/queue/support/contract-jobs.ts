import { Injectable, Module } from '@nestjs/common';
import {
  Job,
  OnJobEvent,
  RetryLaterError,
  type JobCompletedEvent,
  type JobContext,
  type JobEvent,
  type JobFailedEvent,
  type JobProgressEvent,
  type JobRetryingEvent,
  type JobStalledEvent,
  type JobCancelledEvent,
} from '../../../lib/index.js';

/** The rate-limit policy of the contract's `budgeted` jobs (configured by `bootQueueApp`): 3 per second. */
export const JOB_BUDGET_POLICY = 'job-budget';
export const JOB_BUDGET_LIMIT = 3;
export const JOB_BUDGET_WINDOW_MS = 1000;

/** One handler run as the contract suite observes it. */
export interface JobRun {
  id: string;
  name: string;
  queue: string;
  attempt: number;
  maxAttempts: number;
  data: unknown;
  startedAt: number;
  hasSignal: boolean;
}

/**
 * What the contract handlers saw, per application instance: runs in start order, events, and the
 * most jobs running at once per queue. Tests read it through `moduleRef.get(JobProbe)`.
 */
@Injectable()
export class JobProbe {
  readonly runs: JobRun[] = [];
  /** `queue/id` of each run that ended, in order. */
  readonly finished: string[] = [];
  readonly events: JobEvent[] = [];
  readonly active = new Map<string, number>();
  readonly maxActive = new Map<string, number>();
  /** Runs of `keyed` jobs: their concurrency key and when they started and ended (`performance.now()`, one clock for every app of the test process). */
  readonly keyedRuns: Array<{ id: string; key: string; start: number; end: number }> = [];
  /** The reason each run's signal aborted with, by `queue/id/attempt`. */
  readonly abortReasons = new Map<string, unknown>();
  /** `flaky` jobs succeed from this attempt on; tests raise or lower it. */
  flakySucceedsFrom = 3;
  private releaseHeld: () => void = () => undefined;
  private held = new Promise<void>((resolve) => (this.releaseHeld = resolve));

  enter(queue: string, run: JobRun): void {
    this.runs.push(run);
    const now = (this.active.get(queue) ?? 0) + 1;
    this.active.set(queue, now);
    this.maxActive.set(queue, Math.max(now, this.maxActive.get(queue) ?? 0));
  }

  leave(queue: string, id: string): void {
    this.active.set(queue, (this.active.get(queue) ?? 1) - 1);
    this.finished.push(`${queue}/${id}`);
  }

  /** Ids are unique within a queue only (BullMQ counts per queue), so lookups take both. */
  runsOf(queue: string, id: string): JobRun[] {
    return this.runs.filter((run) => run.queue === queue && run.id === id);
  }

  eventsOf(queue: string, id: string): JobEvent[] {
    return this.events.filter((event) => event.queue === queue && event.jobId === id);
  }

  /** Jobs of `hold` wait here until `release()`, or until their signal aborts. */
  hold(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      void this.held.then(resolve);
    });
  }

  release(): void {
    this.releaseHeld();
  }
}

function runOf(data: unknown, context: JobContext): JobRun {
  return {
    id: context.id,
    name: context.name,
    queue: context.queue,
    attempt: context.attempt,
    maxAttempts: context.maxAttempts,
    data,
    startedAt: Date.now(),
    hasSignal: context.signal instanceof AbortSignal,
  };
}

/** The handlers the contract suite drives, one behaviour per job name. */
@Injectable()
export class ContractJobs {
  constructor(private readonly probe: JobProbe) {}

  /** Records the run and returns what it got: the job result. */
  @Job('record', { queue: 'main' })
  @Job('record', { queue: 'other' })
  record(data: unknown, context: JobContext): { echoed: unknown; attempt: number } {
    this.probe.enter(context.queue, runOf(data, context));
    this.probe.leave(context.queue, context.id);
    return { echoed: data, attempt: context.attempt };
  }

  /** Fails until attempt `probe.flakySucceedsFrom`. */
  @Job('flaky', { queue: 'retry', attempts: 3, backoff: 150, removeOnComplete: false })
  flaky(data: unknown, context: JobContext): string {
    this.probe.enter(context.queue, runOf(data, context));
    this.probe.leave(context.queue, context.id);
    if (context.attempt < this.probe.flakySucceedsFrom) throw new Error(`boom on attempt ${context.attempt}`);
    return `ok on attempt ${context.attempt}`;
  }

  /** Takes `ms` of (simulated) work; used to see concurrency. */
  @Job('work', { queue: 'busy', concurrency: 3 })
  async work(data: { ms: number }, context: JobContext): Promise<void> {
    this.probe.enter(context.queue, runOf(data, context));
    try {
      await new Promise((resolve) => setTimeout(resolve, data.ms));
    } finally {
      this.probe.leave(context.queue, context.id);
    }
  }

  /** Runs until the test calls `probe.release()` or the worker aborts it. */
  @Job('hold', { queue: 'held', concurrency: 4 })
  async hold(data: unknown, context: JobContext): Promise<string> {
    this.probe.enter(context.queue, runOf(data, context));
    try {
      await this.probe.hold(context.signal);
      return 'released';
    } finally {
      this.probe.leave(context.queue, context.id);
    }
  }

  /** Waits for its signal (a run timeout, a shutdown) and fails with its reason. */
  @Job('patient', { queue: 'timed', concurrency: 4, runTimeoutMs: 300, attempts: 2, backoff: 10, removeOnComplete: false })
  patient(data: unknown, context: JobContext): Promise<string> {
    return this.untilAborted(data, context);
  }

  /** Waits for its signal (a cancel, a shutdown) and fails with its reason; attempts to spare, so a cancel must not be retried. */
  @Job('cancellable', { queue: 'held', attempts: 3, backoff: 10 })
  cancellable(data: unknown, context: JobContext): Promise<string> {
    return this.untilAborted(data, context);
  }

  /** Runs until the signal aborts, records its reason by `queue/id/attempt`, and fails with it. */
  private async untilAborted(data: unknown, context: JobContext): Promise<string> {
    this.probe.enter(context.queue, runOf(data, context));
    try {
      await new Promise<void>((_, reject) => {
        context.signal.addEventListener('abort', () => {
          this.probe.abortReasons.set(`${context.queue}/${context.id}/${context.attempt}`, context.signal.reason);
          reject(context.signal.reason);
        }, { once: true });
      });
      return 'never';
    } finally {
      this.probe.leave(context.queue, context.id);
    }
  }

  /** Runs under the `job-budget` policy, one budget per `data.account`; no attempt to spare, so a deferral must not use one. */
  @Job('budgeted', { queue: 'budget', concurrency: 10, rateLimit: { policy: JOB_BUDGET_POLICY, key: (data: { account: string }) => data.account } })
  budgeted(data: { account: string }, context: JobContext): string {
    this.probe.enter(context.queue, runOf(data, context));
    this.probe.leave(context.queue, context.id);
    return data.account;
  }

  /** Runs about `data.ms` (default 20), at most 2 of one `data.account` at once in all processes, up to 6 in this one. */
  @Job('keyed', { queue: 'keyed', concurrency: { key: (data: { account: string }) => data.account, limit: 2, perProcess: 6 } })
  async keyed(data: { account: string; ms?: number }, context: JobContext): Promise<string> {
    this.probe.enter(context.queue, runOf(data, context));
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, data.ms ?? 20));
    this.probe.keyedRuns.push({ id: context.id, key: data.account, start, end: performance.now() });
    this.probe.leave(context.queue, context.id);
    return data.account;
  }

  /** At most one at once across every process (the key is the job's name), two at a time here. */
  @Job('single', { queue: 'keyed', concurrency: { limit: 1, perProcess: 2 } })
  async single(data: { account: string }, context: JobContext): Promise<string> {
    return this.keyed({ account: 'single' }, context);
  }

  /** Asks to run again later (`RetryLaterError`, 50 ms) on its first `data.times` runs; at most 3 such asks count as no failure. */
  @Job('later', { queue: 'budget', concurrency: 4, maxRetryLater: 3, removeOnComplete: false })
  later(data: { times: number }, context: JobContext): string {
    this.probe.enter(context.queue, runOf(data, context));
    this.probe.leave(context.queue, context.id);
    const runs = this.probe.runsOf(context.queue, context.id).length;
    // Both forms: the error, and the context's statement.
    if (runs <= data.times) {
      if (runs % 2 === 1) context.retryAfter(50);
      throw new RetryLaterError(50, `not yet (run ${runs})`);
    }
    return `done on run ${runs}`;
  }

  /** Ignores its signal and returns after `ms`: a run timeout must fail it all the same. */
  @Job('stubborn', { queue: 'timed', removeOnComplete: false })
  async stubborn(data: { ms: number }, context: JobContext): Promise<string> {
    this.probe.enter(context.queue, runOf(data, context));
    try {
      await new Promise((resolve) => setTimeout(resolve, data.ms));
      return 'done anyway';
    } finally {
      this.probe.leave(context.queue, context.id);
    }
  }

  /** Reports each value of `steps` as progress, awaiting each write, then tries a value no store takes. */
  @Job('report', { queue: 'timed', removeOnComplete: false })
  async report(data: { steps: unknown[] }, context: JobContext): Promise<{ refused: string }> {
    this.probe.enter(context.queue, runOf(data, context));
    try {
      for (const step of data.steps) await context.progress(step as number);
      let refused = 'nothing';
      try {
        void context.progress('x'.repeat(5000));
      } catch (error) {
        refused = (error as Error).name;
      }
      return { refused };
    } finally {
      this.probe.leave(context.queue, context.id);
    }
  }

  @OnJobEvent('progress')
  onProgress(event: JobProgressEvent): void {
    this.probe.events.push(event);
  }

  @OnJobEvent('completed')
  onCompleted(event: JobCompletedEvent): void {
    this.probe.events.push(event);
  }

  @OnJobEvent('failed')
  onFailed(event: JobFailedEvent): void {
    this.probe.events.push(event);
  }

  @OnJobEvent('retrying', { queue: 'retry' })
  onRetrying(event: JobRetryingEvent): void {
    this.probe.events.push(event);
  }

  @OnJobEvent('cancelled')
  onCancelled(event: JobCancelledEvent): void {
    this.probe.events.push(event);
  }

  @OnJobEvent('stalled')
  onStalled(event: JobStalledEvent): void {
    this.probe.events.push(event);
  }
}

@Module({ providers: [JobProbe, ContractJobs] })
export class ContractJobsModule {}
