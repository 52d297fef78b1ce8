import type { Logger } from '@nestjs/common';
import { errorMessage } from '../../common/error-message.js';
import type { OutageLog } from '../../common/outage-log.js';
import { rejectedByServer } from '../../core/connections/rejected-by-server.js';
import type { JobCompletion, JobStore } from '../job-store.interface.js';
import type { StoredResult } from '../job-result.js';
import type { ClaimedJob } from './job-store.claimed-job.js';

/** Wait before writing again after a failed write (the database is down or restarting). */
const RETRY_AFTER_MS = 500;

interface Completion {
  job: ClaimedJob;
  result: StoredResult;
}

interface Failure {
  job: ClaimedJob;
  error: Error;
  /** Ms until the next attempt, or null when none is left. */
  retryMs: number | null;
  /** A deferral, not a failure (see `JobFailure.deferred`). */
  deferred?: 'rate-limited' | 'retry-later';
}

/** What the flusher tells its worker once a write is applied (the job's token still matched). */
export interface FlushOutcomes {
  completed(job: ClaimedJob, result: unknown): void;
  retrying(job: ClaimedJob, error: Error, retryMs: number): void;
  /** The job was deferred (its attempt given back): it runs again in `retryMs`. */
  deferred(job: ClaimedJob, retryMs: number): void;
  failed(job: ClaimedJob, error: Error): void;
  /** The attempt ended the job `cancelled` (it was cancelled while it ran). */
  cancelled(job: ClaimedJob): void;
  /** The job's outcome is written (applied, or refused for a lost lease): its lease need not be kept any longer. */
  written(job: ClaimedJob): void;
}

/**
 * Writes the outcomes of finished jobs in batches: every completion pending when a write starts
 * goes in one statement, every failure in another. While one write runs, new outcomes gather for
 * the next, so a busy worker writes few large batches and an idle one writes at once. Outcomes are
 * applied only for jobs whose claim token still matches; `drain()` writes everything pending
 * before a worker stops.
 */
export class JobStoreFlusher {
  private completions: Completion[] = [];
  private failures: Failure[] = [];
  private writing: Promise<void> | undefined;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Set by `drain()`: the worker is stopping, so a failed write is not retried on a timer any more. */
  private closing = false;
  /** Set by `stop()`: the worker is closed, and nothing more is written, even by a write loop in flight. */
  private stopped = false;

  constructor(
    private readonly store: JobStore,
    private readonly maxBatch: number,
    private readonly outcomes: FlushOutcomes,
    private readonly logger: Logger,
    private readonly outage: OutageLog,
  ) {}

  /** Pending outcomes, not yet written. */
  get pending(): number {
    return this.completions.length + this.failures.length;
  }

  complete(job: ClaimedJob, result: StoredResult): void {
    this.completions.push({ job, result });
    this.schedule();
  }

  fail(job: ClaimedJob, error: Error, retryMs: number | null): void {
    this.failures.push({ job, error, retryMs });
    this.schedule();
  }

  /** Runs the job again in `delayMs` without counting its attempt; `kind` says why (see `JobFailure.deferred`). */
  defer(job: ClaimedJob, error: Error, delayMs: number, kind: 'rate-limited' | 'retry-later'): void {
    this.failures.push({ job, error, retryMs: delayMs, deferred: kind });
    this.schedule();
  }

  /** Writes everything pending (retrying a failed write once more); resolves when done or given up. */
  async drain(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.writing;
    if (this.pending === 0) return;
    this.writing = this.writeAll(true);
    await this.writing;
  }

  /**
   * Ends all writing: called after `drain()` (or after giving up on it, when the database does not
   * answer). Pending outcomes are left to their leases; the reaper hands those jobs on.
   */
  stop(): void {
    this.stopped = true;
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private schedule(): void {
    if (this.stopped || this.scheduled || this.writing || this.retryTimer) return;
    this.scheduled = true;
    // Let every handler that finishes in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      if (!this.writing) this.writing = this.writeAll(false);
    });
  }

  private async writeAll(final: boolean): Promise<void> {
    try {
      while (this.pending > 0 && !this.stopped) {
        const completions = this.completions.splice(0, this.maxBatch);
        const failures = this.failures.splice(0, this.maxBatch);
        const [wroteCompletions, wroteFailures] = await Promise.allSettled([
          this.writeCompletions(completions),
          this.writeFailures(failures),
        ]);
        // A batch that failed is kept for the next write; if none succeeds, the leases run out and
        // the reaper hands the jobs to another worker (at least once, never lost).
        if (wroteCompletions.status === 'rejected') this.completions.unshift(...completions);
        if (wroteFailures.status === 'rejected') this.failures.unshift(...failures);
        const problem = [wroteCompletions, wroteFailures].find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (problem) {
          this.outage.failed(`writing the outcomes of ${this.pending} job(s)`, problem.reason);
          if (!final && !this.closing) {
            this.retryTimer = setTimeout(() => {
              this.retryTimer = undefined;
              this.schedule();
            }, RETRY_AFTER_MS);
            this.retryTimer.unref();
          }
          return;
        }
        this.outage.succeeded();
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async writeCompletions(batch: Completion[]): Promise<void> {
    if (batch.length === 0) return;
    const applied = await this.completeAll(batch).catch((error: unknown) => {
      if (!rejectedByServer(error)) throw error;
      // Refused by the server, so nothing of it was written. One result the database will not take
      // must not hold back every completion after it: write them one by one.
      return this.completeOneByOne(batch);
    });
    for (const c of batch) {
      this.outcomes.written(c.job);
      if (applied.has(c.job.ref)) this.outcomes.completed(c.job, c.result.value);
    }
  }

  /** Completes the batch in one statement; the refs it applied (token still matching). */
  private completeAll(batch: readonly Completion[]): Promise<Set<string>> {
    return this.store.complete(batch.map(toCompletion));
  }

  /** A statement per job; a job whose result alone is refused completes with a null result. */
  private async completeOneByOne(batch: readonly Completion[]): Promise<Set<string>> {
    const applied = new Set<string>();
    for (const c of batch) {
      const completion = toCompletion(c);
      const refs = await this.store.complete([completion]).catch((error: unknown) => {
        if (!rejectedByServer(error) || completion.resultJson === null) throw error;
        this.logger.warn(`queue: the store refused the result of job ${c.job.id} (${c.job.name}): ${errorMessage(error)}; stored as null`);
        return this.store.complete([{ ...completion, resultJson: null }]);
      });
      for (const ref of refs) applied.add(ref);
    }
    return applied;
  }

  private async writeFailures(batch: Failure[]): Promise<void> {
    if (batch.length === 0) return;
    const { retried, failed, cancelled } = await this.store.fail(
      batch.map((f) => ({
        ref: f.job.ref,
        token: f.job.token,
        retryMs: f.retryMs,
        message: f.error.message || f.error.name || 'Error',
        stack: f.error.stack || null,
        ...(f.deferred ? { deferred: f.deferred } : {}),
      })),
    );
    for (const f of batch) {
      this.outcomes.written(f.job);
      if (retried.has(f.job.ref)) {
        if (f.deferred) this.outcomes.deferred(f.job, f.retryMs ?? 0);
        else this.outcomes.retrying(f.job, f.error, f.retryMs ?? 0);
      }
      else if (failed.has(f.job.ref)) this.outcomes.failed(f.job, f.error);
      else if (cancelled.has(f.job.ref)) this.outcomes.cancelled(f.job);
    }
  }
}

/** A job removed on completion needs no result sent. */
function toCompletion(c: Completion): JobCompletion {
  return { ref: c.job.ref, token: c.job.token, resultJson: c.job.dropResult ? null : c.result.json };
}
