import type { Logger } from '@nestjs/common';
import { errorMessage } from '../../common/error-message.js';
import type { OutageLog } from '../../common/outage-log.js';
import { rejectedByServer } from '../../core/connections/rejected-by-server.js';
import type { SqlDatabase } from '../../core/connections/sql-client.js';
import type { ClaimedJob } from './job-store.claimed-job.js';
import type { QueueSql } from '../../drivers/postgres/queue/postgres-queue.sql.js';

/** Longest error message and stack stored, in characters; a runaway message must not bloat the row. */
const MAX_MESSAGE = 4000;
const MAX_STACK = 16000;
/** Wait before writing again after a failed write (the database is down or restarting). */
const RETRY_AFTER_MS = 500;

interface Completion {
  job: ClaimedJob;
  result: unknown;
  json: string | null;
}

interface Failure {
  job: ClaimedJob;
  error: Error;
  /** Ms until the next attempt, or null when none is left. */
  retryMs: number | null;
}

/** What the flusher tells its worker once a write is applied (the job's token still matched). */
export interface FlushOutcomes {
  completed(job: ClaimedJob, result: unknown): void;
  retrying(job: ClaimedJob, error: Error, retryMs: number): void;
  failed(job: ClaimedJob, error: Error): void;
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
export class PostgresQueueFlusher {
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
    private readonly db: SqlDatabase,
    private readonly sql: QueueSql,
    private readonly channel: string,
    private readonly maxBatch: number,
    private readonly outcomes: FlushOutcomes,
    private readonly logger: Logger,
    private readonly outage: OutageLog,
  ) {}

  /** Pending outcomes, not yet written. */
  get pending(): number {
    return this.completions.length + this.failures.length;
  }

  complete(job: ClaimedJob, result: unknown): void {
    this.completions.push({ job, result, json: job.dropResult ? null : resultJson(result, job, this.logger) });
    this.schedule();
  }

  fail(job: ClaimedJob, error: Error, retryMs: number | null): void {
    this.failures.push({ job, error, retryMs });
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
      if (applied.has(c.job.rowId)) this.outcomes.completed(c.job, c.result);
    }
  }

  /** Completes the batch in one statement; the ids it applied (token still matching). */
  private async completeAll(batch: readonly Completion[]): Promise<Set<string>> {
    const { rows } = await this.db.queryPrepared<{ id: string }>(this.sql.complete, [
      batch.map((c) => c.job.rowId),
      batch.map((c) => c.job.token),
      batch.map((c) => c.json),
    ]);
    return new Set(rows.map((row) => row.id));
  }

  /** A statement per job; a job whose result alone is refused completes with a null result. */
  private async completeOneByOne(batch: readonly Completion[]): Promise<Set<string>> {
    const applied = new Set<string>();
    for (const c of batch) {
      const ids = await this.completeAll([c]).catch((error: unknown) => {
        if (!rejectedByServer(error) || c.json === null) throw error;
        this.logger.warn(`queue: the database refused the result of job ${c.job.id} (${c.job.name}): ${errorMessage(error)}; stored as null`);
        return this.completeAll([{ ...c, json: null }]);
      });
      for (const id of ids) applied.add(id);
    }
    return applied;
  }

  private async writeFailures(batch: Failure[]): Promise<void> {
    if (batch.length === 0) return;
    const { rows } = await this.db.queryPrepared<{ retried: string[]; failed: string[] }>(this.sql.fail, [
      batch.map((f) => f.job.rowId),
      batch.map((f) => f.job.token),
      batch.map((f) => f.retryMs),
      batch.map((f) => clean(f.error.message || f.error.name || 'Error', MAX_MESSAGE)),
      batch.map((f) => (f.error.stack ? clean(f.error.stack, MAX_STACK) : null)),
      this.channel,
    ]);
    const retried = new Set(rows[0]?.retried ?? []);
    const failed = new Set(rows[0]?.failed ?? []);
    for (const f of batch) {
      this.outcomes.written(f.job);
      if (retried.has(f.job.rowId)) this.outcomes.retrying(f.job, f.error, f.retryMs ?? 0);
      else if (failed.has(f.job.rowId)) this.outcomes.failed(f.job, f.error);
    }
  }
}

/** JSON text of a result, or null (stored as SQL NULL) when JSON or jsonb cannot hold it. */
function resultJson(result: unknown, job: ClaimedJob, logger: Logger): string | null {
  try {
    const text = JSON.stringify(result);
    if (text === undefined) return 'null';
    // jsonb refuses the NUL character even escaped; a result holding one is not worth failing the job for.
    if (text.includes('\\u0000')) throw new Error('it contains the NUL character');
    return text;
  } catch (error) {
    logger.warn(`queue: result of job ${job.id} (${job.name}) cannot be stored as JSON (${errorMessage(error)}); stored as null`);
    return null;
  }
}

/** Text Postgres accepts (no NUL), at most `max` characters. */
function clean(text: string, max: number): string {
  const stripped = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
  return stripped.length > max ? `${stripped.slice(0, max - 1)}…` : stripped;
}
