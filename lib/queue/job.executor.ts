import type { Logger } from '@nestjs/common';
import { JobTimeoutError } from '../errors/job-timeout.error.js';
import { NoJobHandlerError } from '../errors/no-job-handler.error.js';
import { JobRateLimitedError } from '../errors/job-rate-limited.error.js';
import { RetryLaterError } from '../errors/retry-later.error.js';
import type { JobRateLimiter } from './job-rate-limiter.interface.js';
import { JobConcurrencyGate } from './job-concurrency.gate.js';
import type { JobContext } from './job.interface.js';
import type { RegisteredJobHandler } from './job.registry.js';
import { JobRun } from './job-run.js';
import type { JobProgressWriter, RunningJob } from './running-job.interface.js';
import { toStoredResult, type StoredResult } from './job-result.js';

/**
 * Runs the jobs of one queue, whatever runner fetched them: routes each job by name to its `@Job`
 * handler, holds a handler with a lower `concurrency` than its queue's at its own gate, and turns
 * what the handler gives into what every store records: a JSON-safe result (with its JSON text),
 * or an `Error` with a message and a stack; and it enforces the attempt's run timeout. Runners (the
 * SQL runner, the BullMQ adapter) only fetch, lease and write; no runner routes, gates, times or
 * normalises on its own.
 */
export class JobExecutor {
  /** Jobs of this queue a process runs at once: the largest `concurrency` of its handlers. */
  readonly concurrency: number;
  /**
   * The longest lease among the handlers. A runner that holds one lease length for every job it
   * runs (BullMQ's `lockDuration`) uses it; the SQL runner leases each job by its own.
   */
  readonly longestLeaseMs: number;
  private readonly routes = new Map<string, (data: unknown, context: JobContext) => Promise<unknown>>();
  private readonly maxRetryLater = new Map<string, number>();

  constructor(
    readonly queue: string,
    handlers: ReadonlyMap<string, RegisteredJobHandler>,
    private readonly logger: Logger,
    /** The app's rate limiter, for handlers with `rateLimit` (the explorer made sure there is one). */
    private readonly limiter?: JobRateLimiter,
  ) {
    const all = [...handlers.values()];
    this.concurrency = Math.max(...all.map((h) => h.concurrency));
    this.longestLeaseMs = Math.max(...all.map((h) => h.defaults.leaseMs));
    for (const [name, handler] of handlers) {
      this.routes.set(name, this.route(handler));
      this.maxRetryLater.set(name, handler.maxRetryLater);
    }
  }

  /**
   * What a runner does with the error of a failed attempt: run the job again in `delayMs` without
   * using an attempt (its `rateLimit` budget was spent, or its handler threw `RetryLaterError`,
   * `retryLater` then true), or, undefined, record a failed attempt. `retryLaters` is how often the
   * job's handler asked so before: past its `maxRetryLater`, a `RetryLaterError` fails the attempt.
   */
  deferral(error: Error, name: string, retryLaters: number): { delayMs: number; retryLater: boolean } | undefined {
    if (!(error instanceof RetryLaterError)) return undefined;
    if (error instanceof JobRateLimitedError) return { delayMs: error.delayMs, retryLater: false };
    return retryLaters < (this.maxRetryLater.get(name) ?? 0) ? { delayMs: error.delayMs, retryLater: true } : undefined;
  }

  /** Job names with a handler here. */
  get names(): string[] {
    return [...this.routes.keys()];
  }

  /** A new attempt of a job of this queue, its progress going to `progress`; `scheduledFor` is the tick of a scheduled job. */
  startRun(id: string, name: string, attempt: number, maxAttempts: number, progress: JobProgressWriter, scheduledFor: number | null = null): RunningJob {
    return new JobRun(this.queue, id, name, attempt, maxAttempts, progress, scheduledFor);
  }

  /**
   * Runs one attempt; resolves to its stored result, rejects with an `Error` (a job of a name with
   * no handler here fails with `NoJobHandlerError`). With `runTimeoutMs`, the attempt fails with
   * `JobTimeoutError` at the limit, the run's signal aborting with it, whether or not the handler
   * stops (its handler's concurrency gate is held until it does).
   */
  execute(data: unknown, run: RunningJob, runTimeoutMs: number | null): Promise<StoredResult> {
    const route = this.routes.get(run.name);
    if (!route) return Promise.reject(new NoJobHandlerError(this.queue, run.name, this.names));
    const handled = route(data, run);
    if (runTimeoutMs === null) return handled.then((value) => toStoredResult(value, run.name, this.logger), rejectAsError);
    return new Promise<StoredResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new JobTimeoutError(this.queue, run.id, runTimeoutMs);
        run.abort(error);
        reject(error);
      }, runTimeoutMs);
      handled.then(
        (value) => {
          clearTimeout(timer);
          resolve(toStoredResult(value, run.name, this.logger));
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(toError(error));
        },
      );
    });
  }

  private route(handler: RegisteredJobHandler): (data: unknown, context: JobContext) => Promise<unknown> {
    const call = async (data: unknown, context: JobContext): Promise<unknown> => handler.invoke(data, context);
    // The budget is taken once the handler's own gate let the attempt through, right before it runs.
    const invoke = handler.rateLimit && this.limiter ? this.underBudget(handler, this.limiter, call) : call;
    if (handler.concurrency >= this.concurrency) return invoke;
    const gate = new JobConcurrencyGate(handler.concurrency);
    return async (data, context) => {
      const release = await gate.acquire(context.signal);
      try {
        return await invoke(data, context);
      } finally {
        release();
      }
    };
  }

  /** `invoke` after one unit of the handler's rate-limit policy, or `JobRateLimitedError` with the wait until one fits. */
  private underBudget(
    handler: RegisteredJobHandler,
    limiter: JobRateLimiter,
    invoke: (data: unknown, context: JobContext) => Promise<unknown>,
  ): (data: unknown, context: JobContext) => Promise<unknown> {
    const { policy, key } = handler.rateLimit!;
    const keyOf = key as ((data: unknown) => string) | undefined;
    return async (data, context) => {
      const decision = await limiter.consume(keyOf ? keyOf(data) : handler.name, policy);
      if (!decision.allowed) throw new JobRateLimitedError(this.queue, context.id, policy, budgetWait(decision.retryAfterMs, decision.storeFailed));
      return invoke(data, context);
    };
  }
}

/** Shortest wait for a spent budget, and the shortest when the store failed and the policy denied. */
const MIN_BUDGET_WAIT_MS = 10;
const STORE_FAILED_WAIT_MS = 1000;

/**
 * How long a job whose budget was spent waits: until a unit fits, plus up to a tenth more (at least
 * 20 ms), so jobs that found the budget spent together do not all come back in the same instant.
 */
function budgetWait(retryAfterMs: number, storeFailed: boolean): number {
  const base = Math.max(retryAfterMs, storeFailed ? STORE_FAILED_WAIT_MS : MIN_BUDGET_WAIT_MS);
  return Math.ceil(base + Math.random() * Math.max(20, base / 10));
}

function rejectAsError(error: unknown): Promise<never> {
  return Promise.reject(toError(error));
}

/** A handler may throw anything; every store records an Error with a message and a stack. */
function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(typeof error === 'string' ? error : `non-Error thrown: ${String(error)}`);
}
