import { JobLeaseExpiredError } from '../../../errors/job-lease-expired.error.js';
import { BALLAST_LOCK_CLASS } from '../../../core/migrations/migrator.js';
import type { SqlClient, SqlDatabase, SqlResult } from '../../../core/connections/sql-client.js';
import type { JobCounts, JobInfo, JobProgress, JobState } from '../../../queue/job.interface.js';
import type {
  DueSchedule,
  JobCompletion,
  JobFailure,
  JobLease,
  JobRenewal,
  JobStore,
  LeasedJob,
  ReapedJob,
  ScheduleAdvance,
  SerializedJob,
} from '../../../queue/job-store.interface.js';
import type { JobListQuery, JobPage } from '../../../queue/job-list.interface.js';
import type { AddedJob } from '../../../queue/added-job.interface.js';
import type { NewSchedule, ScheduleTimingSpec } from '../../../queue/new-schedule.interface.js';
import type { ScheduleInfo } from '../../../queue/schedule-options.interface.js';
import type { JobDedupe } from '../../../queue/job-dedupe-options.interface.js';
import type { CancelOutcome } from '../../../queue/cancel-outcome.interface.js';
import { publicIdParams } from './postgres-queue.job-id.js';
import { concurrencyGroups, newJobJson, newJobParams, newJobsJson } from './postgres-queue.new-job.js';
import type { NewJob } from '../../../queue/new-job.interface.js';
import type { QueueSql } from './postgres-queue.sql.js';

/** How long claims of a queue stay keyed after the last sign of jobs with a concurrency key in it. */
const KEYED_CLAIMS_MS = 60_000;
/** Concurrency keys remembered as written; past this many the memory starts over (a forgotten key costs one more statement). */
const MAX_KNOWN_GROUPS = 10_000;
/** Longest error message and stack stored, in characters; a runaway message must not bloat the row. */
const MAX_MESSAGE = 4000;
const MAX_STACK = 16000;

interface JobRow {
  id: string;
  queue: string;
  name: string;
  data: string;
  state: JobState;
  priority: number;
  attempts_made: number;
  max_attempts: number;
  created_at: number;
  run_at: number;
  finished_at: number | null;
  result: string | null;
  error_message: string | null;
  error_stack: string | null;
  progress: string | null;
}

/** A claim row as the claim statement returns it. */
interface ClaimRow {
  /** Null in the claims' first row that says jobs with a concurrency key wait. */
  id: string | null;
  public_id: string;
  name: string;
  data: string;
  attempts_made: number;
  max_attempts: number;
  timeout_ms: number;
  run_timeout_ms: number | null;
  backoff_type: 'fixed' | 'exponential';
  backoff_delay: number;
  backoff_jitter: number;
  token: string;
  drop_result: boolean;
  scheduled_for: number | null;
  retry_laters: number;
  keyed: boolean;
}

interface ScheduleRow {
  id: string;
  queue: string;
  name: string;
  source: 'code' | 'api';
  timing: string;
  catch_up: 'none' | 'last';
  job: string;
  next_run_at: number;
}

/** A listed job: the job, and its sort key for the next page's cursor. */
interface PageRow extends JobRow {
  k_priority: number;
  key_run_at: string;
  key_finished_at: string | null;
  key_id: string;
}

/** Checks of a cursor's key parts before they reach SQL as parameters (a bad cast would be a server error). */
const INTEGER = /^-?\d{1,19}$/;
const TIMESTAMP = /^[0-9][0-9 :.+T-]{9,40}$|^-?infinity$/;
const MAX_BIGINT = '9223372036854775807';

function checkedKey(query: JobListQuery, parts: readonly RegExp[]): readonly string[] {
  const key = query.after ?? [];
  if (key.length !== parts.length || !key.every((part, i) => parts[i]!.test(part))) throw query.invalidCursor();
  return key;
}

interface ReapedRow {
  id: string;
  name: string;
  state: ReapedJob['state'];
  attempts_made: number;
  stalled: boolean;
}

/**
 * `JobStore` on Postgres, a server or PGlite alike (through `SqlDatabase`): each method runs one
 * statement of `postgres-queue.sql.ts`, prepared on the pool's connections. Writes that change what
 * workers may claim notify the schema's channel in the same statement. The tables must exist
 * (`queueMigrations`).
 */
export class PostgresJobStore implements JobStore {
  constructor(
    private readonly db: SqlDatabase,
    private readonly sql: QueueSql,
    /** The LISTEN/NOTIFY channel of the schema's queues. */
    private readonly channel: string,
    /** Schema name, for the try-lock keys of the reaper and pruner. */
    private readonly schema: string,
    /**
     * Our own enqueues wait for the WAL flush at commit. Off, an enqueue acknowledged in the last
     * few hundred ms before a database server crash can be lost (like Redis with `appendfsync
     * everysec`); the app crashing loses nothing either way. A caller's transaction keeps its own
     * durability.
     */
    private readonly durableEnqueue: boolean,
  ) {}

  /** The concurrency keys this process has written, with their limits (queue and key joined by a NUL). */
  private readonly knownGroups = new Map<string, number>();
  /** Per queue, until when claims use `claimKeyed` (epoch ms): a minute past the last sign of jobs with a key. */
  private readonly keyedUntil = new Map<string, number>();

  async enqueue(jobs: readonly SerializedJob[], transaction?: SqlClient): Promise<AddedJob[]> {
    await this.ensureGroups(jobs, transaction);
    if (jobs.every((job) => job.dedupe === null)) return this.insert(jobs, transaction);
    // One keyed job needs no transaction of its own: its statements are each atomic, and a
    // debounce that frees a running job's key and adds again is right whoever adds in between.
    if (jobs.length === 1 && !transaction) return [await this.insertKeyed(jobs[0]!, jobs[0]!.dedupe!, undefined)];
    if (transaction) return this.insertEach(jobs, transaction);
    // More than one: a transaction keeps the call all or none.
    return this.db.transaction((tx) => this.insertEach(jobs, tx));
  }

  /**
   * Creates the key rows of the jobs' concurrency keys (or updates their limits) before the jobs
   * go in: a job whose key has no row would never be claimed. Keys this process already wrote
   * with the same limit are skipped, so an add of a known key costs nothing more. Inside a
   * caller's transaction the rows are written on it (PGlite has one connection, and a rollback
   * then takes a new key's row with its jobs) and not remembered, since the transaction may yet
   * roll back.
   */
  private async ensureGroups(jobs: readonly NewJob[], transaction: SqlClient | undefined): Promise<void> {
    const groups = concurrencyGroups(jobs);
    for (const g of groups) this.keyedUntil.set(g.queue, Date.now() + KEYED_CLAIMS_MS);
    const missing = groups.filter((g) => this.knownGroups.get(`${g.queue}\u0000${g.key}`) !== g.limit);
    if (missing.length === 0) return;
    await this.runOn(transaction)(this.sql.ensureGroups, [JSON.stringify(missing)]);
    if (transaction) return;
    if (this.knownGroups.size + missing.length > MAX_KNOWN_GROUPS) this.knownGroups.clear();
    for (const g of missing) this.knownGroups.set(`${g.queue}\u0000${g.key}`, g.limit);
  }

  /** Our own statements are prepared on the pool's connections; a caller's client (or our transaction) runs them plain. */
  private runOn(tx: SqlClient | undefined): <R extends object>(text: string, params: unknown[]) => Promise<SqlResult<R>> {
    return tx ? (text, params) => tx.query(text, params) : (text, params) => this.db.queryPrepared(text, params);
  }

  /** Jobs without dedupe keys, in one statement (`addOne` for one job, the bulk form for more). */
  private async insert(jobs: readonly SerializedJob[], transaction: SqlClient | undefined): Promise<AddedJob[]> {
    const durable = transaction !== undefined || this.durableEnqueue;
    const run = this.runOn(transaction);
    if (jobs.length === 1) {
      const job = jobs[0]!;
      const { rows } = await run<{ id: string }>(durable ? this.sql.addOne : this.sql.addOneAsync, [...newJobParams(job), this.channel]);
      const row = rows[0];
      return [row ? { id: job.jobId ?? row.id, outcome: 'created' } : { id: job.jobId!, outcome: 'deduplicated' }];
    }
    const { rows } = await run<{ ids: string[]; created: string[] }>(durable ? this.sql.add : this.sql.addAsync, [newJobsJson(jobs), this.channel]);
    const { ids, created } = rows[0]!;
    const inserted = created.length > 0 ? new Set(created) : undefined;
    // A job with a jobId is known by it, whether this call created it or found it; one without
    // cannot meet an existing job, so it was created.
    return jobs.map((job, i): AddedJob =>
      job.jobId === undefined ? { id: ids[i]!, outcome: 'created' } : { id: job.jobId, outcome: inserted?.has(ids[i]!) ? 'created' : 'deduplicated' },
    );
  }

  /**
   * Jobs on one transaction: the unkeyed ones in one statement, then the keyed ones one by one in
   * (queue, key) order, so two calls locking the same keys take them in the same order and cannot
   * deadlock; entries of one key keep their input order (the first decides). Results come back
   * in input order.
   */
  private async insertEach(jobs: readonly SerializedJob[], tx: SqlClient): Promise<AddedJob[]> {
    const added = new Array<AddedJob>(jobs.length);
    const plain = jobs.flatMap((job, index) => (job.dedupe === null ? [index] : []));
    if (plain.length > 0) {
      const inserted = await this.insert(plain.map((index) => jobs[index]!), tx);
      plain.forEach((index, k) => (added[index] = inserted[k]!));
    }
    const keyed = jobs.flatMap((job, index) => (job.dedupe === null ? [] : [index]));
    const order = (index: number) => `${jobs[index]!.queue}\u0000${jobs[index]!.dedupe!.mode === 'unique' ? 'u' : 'k'}\u0000${jobs[index]!.dedupe!.key}`;
    keyed.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : a - b));
    for (const index of keyed) added[index] = await this.insertKeyed(jobs[index]!, jobs[index]!.dedupe!, tx);
    return added;
  }

  /** One keyed job: on the caller's transaction, or (no `tx`) on the pool, prepared. Keyed adds always commit durably. */
  private async insertKeyed(job: SerializedJob, dedupe: JobDedupe, tx: SqlClient | undefined): Promise<AddedJob> {
    const run = this.runOn(tx);
    const params = [...newJobParams(job), this.channel, dedupe.key];
    if (dedupe.mode === 'unique') {
      const { rows } = await run<{ created: string | null; holder: string }>(this.sql.addUnique, [...params, dedupe.forMs]);
      const { created, holder } = rows[0]!;
      return created === null ? { id: holder, outcome: 'deduplicated' } : { id: created, outcome: 'created' };
    }
    const debounce = dedupe.mode === 'debounce';
    // Twice at most: a debounce add that met its key on a running job frees the key and adds again.
    // A third round would need another add to take the key and a worker to claim it in between.
    for (let round = 0; round < 3; round++) {
      const { rows } = await run<{ id: string; created: boolean }>(this.sql.addKeyed, [...params, debounce]);
      const row = rows[0];
      if (row) return { id: row.id, outcome: row.created ? 'created' : debounce ? 'replaced' : 'deduplicated' };
      await run(this.sql.releaseKey, [job.queue, dedupe.key]);
    }
    throw new Error(`debounce key ${JSON.stringify(dedupe.key)} of queue ${JSON.stringify(job.queue)} was taken by a running job three times in a row`);
  }

  /**
   * `claim` while the queue has no jobs with a concurrency key waiting, `claimKeyed` while it has
   * (and for a minute after it last had): the keyed claim costs more, and most queues never use
   * keys. Either statement says so when keyed jobs wait (a first row with a null id); the plain one
   * never claims them, so a switch is always made before such a job could be claimed.
   */
  async claim(queue: string, limit: number, startNow: number): Promise<LeasedJob[]> {
    const now = Date.now();
    const keyed = (this.keyedUntil.get(queue) ?? 0) > now;
    let rows = (await this.db.queryPrepared<ClaimRow>(keyed ? this.sql.claimKeyed : this.sql.claim, [queue, limit, startNow])).rows;
    if (rows[0]?.id === null) {
      rows = rows.slice(1);
      this.keyedUntil.set(queue, now + KEYED_CLAIMS_MS);
      if (!keyed && rows.length < limit) {
        const more = await this.db.queryPrepared<ClaimRow>(this.sql.claimKeyed, [queue, limit - rows.length, Math.max(0, startNow - rows.length)]);
        rows = rows.concat(more.rows.filter((row) => row.id !== null));
      }
    }
    return rows.map(toLeasedJob);
  }

  async complete(jobs: readonly JobCompletion[]): Promise<Set<string>> {
    const { rows } = await this.db.queryPrepared<{ id: string }>(this.sql.complete, [
      jobs.map((j) => j.ref),
      jobs.map((j) => j.token),
      jobs.map((j) => j.resultJson),
    ]);
    return new Set(rows.map((row) => row.id));
  }

  async fail(jobs: readonly JobFailure[]): Promise<{ retried: Set<string>; failed: Set<string>; cancelled: Set<string> }> {
    const { rows } = await this.db.queryPrepared<{ retried: string[]; failed: string[]; cancelled: string[] }>(this.sql.fail, [
      jobs.map((j) => j.ref),
      jobs.map((j) => j.token),
      jobs.map((j) => j.retryMs),
      jobs.map((j) => clean(j.message, MAX_MESSAGE)),
      jobs.map((j) => (j.stack === null ? null : clean(j.stack, MAX_STACK))),
      this.channel,
      jobs.map((j) => j.deferred ?? null),
    ]);
    const row = rows[0];
    return { retried: new Set(row?.retried ?? []), failed: new Set(row?.failed ?? []), cancelled: new Set(row?.cancelled ?? []) };
  }

  async renew(jobs: readonly JobRenewal[]): Promise<{ renewed: Set<string>; cancelled: Set<string> }> {
    const { rows } = await this.db.queryPrepared<{ id: string; cancel_requested: boolean }>(this.sql.renew, [
      jobs.map((j) => j.ref),
      jobs.map((j) => j.token),
      jobs.map((j) => j.started),
    ]);
    const renewed = new Set<string>();
    const cancelled = new Set<string>();
    for (const row of rows) {
      renewed.add(row.id);
      if (row.cancel_requested) cancelled.add(row.id);
    }
    return { renewed, cancelled };
  }

  async progress(job: JobLease, json: string): Promise<boolean> {
    const { rows } = await this.db.queryPrepared(this.sql.progress, [job.ref, job.token, json]);
    return rows.length > 0;
  }

  async release(jobs: readonly JobLease[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.db.queryPrepared(this.sql.release, [jobs.map((j) => j.ref), jobs.map((j) => j.token), this.channel]);
  }

  async reap(queue: string, limit: number, maxStalls: number): Promise<ReapedJob[]> {
    const { rows } = await this.db.queryPrepared<{ reaped: string }>(this.sql.reap, [
      BALLAST_LOCK_CLASS,
      `queue-reap:${this.schema}:${queue}`,
      queue,
      limit,
      JobLeaseExpiredError.describe(maxStalls),
      this.channel,
      maxStalls,
    ]);
    const reaped = JSON.parse(rows[0]?.reaped ?? '[]') as ReapedRow[];
    return reaped.map((row) => ({ id: row.id, name: row.name, state: row.state, attemptsMade: row.attempts_made, stalled: row.stalled }));
  }

  async promote(queue: string, limit: number): Promise<number | null> {
    const { rows } = await this.db.queryPrepared<{ next_wait_ms: string | null }>(this.sql.promote, [queue, limit, this.channel]);
    const next = rows[0]?.next_wait_ms;
    return next === null || next === undefined ? null : Number(next);
  }

  async prune(rule: 'age' | 'count' | 'keys', limit: number): Promise<number> {
    const statement = rule === 'age' ? this.sql.pruneByAge : rule === 'count' ? this.sql.pruneByCount : this.sql.pruneUniqueKeys;
    const { rows } = await this.db.queryPrepared<{ deleted: number }>(statement, [BALLAST_LOCK_CLASS, `queue-prune:${this.schema}`, limit]);
    return rows[0]?.deleted ?? 0;
  }

  async dueSchedules(limit: number): Promise<{ due: DueSchedule[]; nowMs: number }> {
    const { rows } = await this.db.queryPrepared<{ id: string; timing: string; catch_up: 'none' | 'last'; due: string; due_ms: number; now_ms: number }>(
      this.sql.dueSchedules,
      [limit],
    );
    const due = rows.map((row) => ({ id: row.id, timing: JSON.parse(row.timing) as ScheduleTimingSpec, catchUp: row.catch_up, due: row.due, dueMs: row.due_ms }));
    // With nothing due the statement returns no row, so no clock either; then none is needed.
    return { due, nowMs: rows[0]?.now_ms ?? Date.now() };
  }

  async nextScheduleWait(): Promise<number | null> {
    const { rows } = await this.db.queryPrepared<{ wait_ms: number | null }>(this.sql.nextScheduleWait, []);
    return rows[0]?.wait_ms ?? null;
  }

  async advanceSchedules(advances: readonly ScheduleAdvance[]): Promise<number> {
    if (advances.length === 0) return 0;
    const input = advances.map((a) => ({
      id: a.id,
      due: a.due,
      tick: a.tick === null ? null : new Date(a.tick).toISOString(),
      next: new Date(a.next).toISOString(),
    }));
    const { rows } = await this.db.queryPrepared<{ enqueued: number }>(this.sql.advanceSchedules, [JSON.stringify(input), this.channel]);
    return rows[0]?.enqueued ?? 0;
  }

  async upsertSchedules(schedules: readonly NewSchedule[]): Promise<void> {
    await this.ensureGroups(schedules.map((s) => s.job), undefined);
    if (schedules.length === 1) {
      await this.db.query(this.sql.upsertSchedule, scheduleParams(schedules[0]!));
      return;
    }
    await this.db.transaction(async (tx) => {
      for (const schedule of schedules) await tx.query(this.sql.upsertSchedule, scheduleParams(schedule));
    });
  }

  async reconcileSchedules(handled: readonly string[], schedules: readonly NewSchedule[]): Promise<string[]> {
    await this.ensureGroups(schedules.map((s) => s.job), undefined);
    return this.db.transaction(async (tx) => {
      await tx.query(this.sql.lockSchedules, [BALLAST_LOCK_CLASS, `queue-schedules:${this.schema}`]);
      for (const schedule of schedules) await tx.query(this.sql.upsertSchedule, scheduleParams(schedule));
      const { rows } = await tx.query<{ id: string }>(this.sql.removeStaleCodeSchedules, [handled, schedules.map((s) => s.id)]);
      return rows.map((row) => row.id);
    });
  }

  async removeSchedule(id: string): Promise<boolean> {
    const { rows } = await this.db.query(this.sql.removeSchedule, [id]);
    return rows.length > 0;
  }

  async listSchedules(queue: string | undefined): Promise<ScheduleInfo[]> {
    const { rows } = await this.db.query<ScheduleRow>(this.sql.listSchedules, [queue ?? null]);
    return rows.map(toScheduleInfo);
  }

  async getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    const { rows } = await this.db.queryPrepared<JobRow>(this.sql.getJob, [queue, ...publicIdParams(id)]);
    const row = rows[0];
    return row ? toJobInfo(row) : undefined;
  }

  async list(queue: string, query: JobListQuery): Promise<JobPage> {
    const { state, limit, after } = query;
    let statement: string;
    let params: unknown[];
    if (state === 'waiting') {
      const [priority, runAt, id] = after === undefined ? ['-1', '-infinity', '0'] : checkedKey(query, [INTEGER, TIMESTAMP, INTEGER]);
      statement = this.sql.listWaiting;
      params = [queue, priority, runAt, id, limit];
    } else {
      const first = state === 'delayed' || state === 'active' ? ['-infinity', '0'] : ['infinity', MAX_BIGINT];
      const [time, id] = after === undefined ? first : checkedKey(query, [TIMESTAMP, INTEGER]);
      statement = {
        delayed: this.sql.listDelayed,
        active: this.sql.listActive,
        completed: this.sql.listCompleted,
        failed: this.sql.listFailed,
        cancelled: this.sql.listCancelled,
      }[state];
      params = [queue, time, id, limit];
    }
    const { rows } = await this.db.queryPrepared<PageRow>(statement, params);
    const page: JobPage = { jobs: rows.slice(0, limit).map(toJobInfo) };
    if (rows.length > limit) {
      const last = rows[limit - 1]!;
      const key =
        state === 'waiting'
          ? [String(last.k_priority), last.key_run_at, last.key_id]
          : [state === 'delayed' || state === 'active' ? last.key_run_at : last.key_finished_at!, last.key_id];
      page.next = query.cursor(key);
    }
    return page;
  }

  async counts(queue: string): Promise<JobCounts> {
    const { rows } = await this.db.queryPrepared<JobCounts>(this.sql.counts, [queue]);
    return rows[0]!;
  }

  async retry(queue: string, id: string): Promise<boolean> {
    const { rows } = await this.db.query(this.sql.retry, [queue, ...publicIdParams(id), this.channel]);
    return rows.length > 0;
  }

  async retryFailed(queue: string, limit: number, cutoff: string | null): Promise<{ moved: number; cutoff: string | null }> {
    const { rows } = await this.db.query<{ moved: number; cutoff: string }>(this.sql.retryFailedBatch, [queue, limit, this.channel, cutoff]);
    const row = rows[0];
    return { moved: row?.moved ?? 0, cutoff: row?.cutoff ?? cutoff };
  }

  async remove(queue: string, id: string): Promise<boolean> {
    const { rows } = await this.db.query(this.sql.remove, [queue, ...publicIdParams(id)]);
    return rows.length > 0;
  }

  async cancel(queue: string, id: string): Promise<CancelOutcome> {
    const { rows } = await this.db.query<{ ref: string | null; state: 'cancelled' | 'active' | null; drop_now: boolean | null; found: boolean }>(
      this.sql.cancel,
      [queue, ...publicIdParams(id), this.channel],
    );
    const row = rows[0]!;
    if (row.state === 'active') return 'cancelling';
    if (row.state === 'cancelled') {
      // Retention keeps no failed jobs: gone at once, as a failed one would be.
      if (row.drop_now) await this.db.query(this.sql.dropCancelled, [row.ref]);
      return 'cancelled';
    }
    return row.found ? 'finished' : 'missing';
  }

  async pause(queue: string): Promise<void> {
    await this.db.query(this.sql.pause, [queue, this.channel]);
  }

  async resume(queue: string): Promise<void> {
    await this.db.query(this.sql.resume, [queue, this.channel]);
  }
}

/** `upsertSchedule`'s parameters: the tick job stored as the enqueue statement's column object. */
function scheduleParams(schedule: NewSchedule): unknown[] {
  const job = newJobJson({ ...schedule.job, json: JSON.stringify(schedule.job.data) });
  return [
    schedule.id,
    schedule.queue,
    schedule.name,
    schedule.source,
    JSON.stringify(schedule.timing),
    schedule.catchUp,
    job,
    new Date(schedule.firstRunAt).toISOString(),
  ];
}

function toScheduleInfo(row: ScheduleRow): ScheduleInfo {
  const timing = JSON.parse(row.timing) as ScheduleTimingSpec;
  const job = JSON.parse(row.job) as { data: string };
  return {
    id: row.id,
    queue: row.queue,
    name: row.name,
    ...(timing.kind === 'cron' ? { cron: timing.cron, tz: timing.tz } : { every: timing.everyMs }),
    data: JSON.parse(job.data) as unknown,
    catchUp: row.catch_up,
    source: row.source,
    nextRunAt: new Date(row.next_run_at),
  };
}

function toLeasedJob(row: ClaimRow): LeasedJob {
  return {
    ref: row.id!,
    id: row.public_id,
    name: row.name,
    json: row.data,
    attempt: row.attempts_made,
    maxAttempts: row.max_attempts,
    leaseMs: row.timeout_ms,
    runTimeoutMs: row.run_timeout_ms,
    scheduledFor: row.scheduled_for,
    retryLaters: row.retry_laters,
    backoff: { type: row.backoff_type, delay: row.backoff_delay, jitter: row.backoff_jitter },
    token: row.token,
    dropResult: row.drop_result,
    keyed: row.keyed,
  };
}

function toJobInfo(row: JobRow): JobInfo {
  const info: JobInfo = {
    id: row.id,
    queue: row.queue,
    name: row.name,
    data: JSON.parse(row.data) as unknown,
    state: row.state,
    priority: row.priority,
    attemptsMade: row.attempts_made,
    maxAttempts: row.max_attempts,
    createdAt: new Date(row.created_at),
    runAt: new Date(row.run_at),
  };
  if (row.finished_at !== null) info.finishedAt = new Date(row.finished_at);
  if (row.result !== null) info.result = JSON.parse(row.result) as unknown;
  if (row.progress !== null) info.progress = JSON.parse(row.progress) as JobProgress;
  if (row.error_message !== null) info.error = row.error_stack === null ? { message: row.error_message } : { message: row.error_message, stack: row.error_stack };
  return info;
}

/** Text Postgres accepts (no NUL), at most `max` characters. */
function clean(text: string, max: number): string {
  const stripped = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
  return stripped.length > max ? `${stripped.slice(0, max - 1)}…` : stripped;
}
