import type { SqlClient } from '../core/connections/sql-client.js';
import type { JobCounts, JobInfo } from './job.interface.js';
import type { NewJob } from './new-job.interface.js';
import type { JobListQuery, JobPage } from './job-list.interface.js';
import type { AddedJob } from './added-job.interface.js';
import type { NewSchedule, ScheduleTimingSpec } from './new-schedule.interface.js';
import type { ScheduleInfo } from './schedule-options.interface.js';
import type { CancelOutcome } from './cancel-outcome.interface.js';

/** A job as a store inserts it: `json` is its data as JSON text, built once by the runner at `add` (stores read it, not `data`). */
export interface SerializedJob extends NewJob {
  json: string;
}

/** The retry policy of a claimed job, as the runner computes the delay before its next attempt. */
export interface JobBackoff {
  type: 'fixed' | 'exponential';
  delay: number;
  jitter: number;
}

/** A job the store handed to a worker under a lease: the claim's token must accompany every write about it. */
export interface LeasedJob {
  /** The store's own handle of the job (a row id), for writes. */
  ref: string;
  /** The id users see: their jobId, or the generated one. */
  id: string;
  name: string;
  /** JSON text of the data, parsed when the job starts. */
  json: string;
  /** This attempt, 1-based. */
  attempt: number;
  maxAttempts: number;
  /** The lease length of this job, ms. */
  leaseMs: number;
  /** Longest one attempt may run, ms; null for no limit. */
  runTimeoutMs: number | null;
  /** The tick (epoch ms) a schedule enqueued the job for; null for other jobs. */
  scheduledFor: number | null;
  /** How often the job's handler threw `RetryLaterError` (and was deferred for it) so far. */
  retryLaters: number;
  backoff: JobBackoff;
  /** The claim's token; a write whose token no longer matches (the job was reaped or handed on) is not applied. */
  token: string;
  /** The job is removed on completion, so its result need not be sent. */
  dropResult: boolean;
  /**
   * The job runs under a concurrency key: once its outcome is written its slot is free, and the
   * worker claims again (a claim that came back short may have been short of that slot).
   */
  keyed: boolean;
}

/** A job's lease, as a write names it. */
export interface JobLease {
  ref: string;
  token: string;
}

/** A completion to write: `resultJson` is the stored result's JSON text, or null for none. */
export interface JobCompletion extends JobLease {
  resultJson: string | null;
}

/**
 * A failed attempt to write: retried after `retryMs`, or failed for good when it is null. A
 * `deferred` one is no failure: the job runs again after `retryMs` with its attempt given back and
 * its error unchanged (`rate-limited`: its budget was spent; `retry-later`: its handler asked, which
 * counts towards `maxRetryLater`).
 */
export interface JobFailure extends JobLease {
  retryMs: number | null;
  message: string;
  stack: string | null;
  deferred?: 'rate-limited' | 'retry-later';
}

/** A lease to renew; `started` tells the store the handler runs (a later expiry then counts a stall). */
export interface JobRenewal extends JobLease {
  started: boolean;
}

/** A job whose lease ran out, as the reaper found it. */
export interface ReapedJob {
  id: string;
  name: string;
  /** `waiting`: back in the queue; `failed`: it stalled more than `maxStalls` times; `cancelled`: it was cancelled while it ran. */
  state: 'waiting' | 'failed' | 'cancelled';
  attemptsMade: number;
  /** The handler had started, so this return counted a stall; false for a job that sat in a buffer. */
  stalled: boolean;
}

/** A schedule whose next tick is due, as the scheduler reads it. */
export interface DueSchedule {
  id: string;
  timing: ScheduleTimingSpec;
  catchUp: 'none' | 'last';
  /** The due time, epoch ms. */
  dueMs: number;
  /** The due time exactly as the store keeps it (epoch microseconds, as text), handed back to `advanceSchedules` to match on. */
  due: string;
}

/** A due schedule moved on: `tick` enqueued (or none, when null), next due at `next`. */
export interface ScheduleAdvance {
  id: string;
  due: string;
  tick: number | null;
  next: number;
}

/**
 * What a notification from the store says: jobs of `queue` are due in `waitMs` (0 for now), the
 * queue was paused, or the running job `ref` was cancelled. Signals are hints: a worker also polls
 * (and its lease renewals report cancels), so a lost one only delays.
 */
export type JobSignal =
  | { kind: 'ready'; queue: string; waitMs: number }
  | { kind: 'paused'; queue: string }
  | { kind: 'cancel'; queue: string; ref: string };

/**
 * The wake-up seam: how a worker hears that jobs are ready without asking. Postgres uses
 * LISTEN/NOTIFY; a Valkey/Redis delivery can take its place.
 */
export interface JobWakeup {
  /** Starts listening; resolves once listening (so no signal sent after it can be missed) to a function that stops. */
  listen(onSignal: (signal: JobSignal) => void): Promise<() => Promise<void>>;
}

/**
 * The seam between the queue runner and a store that keeps jobs in tables (Postgres and PGlite): each
 * method is one statement, batched where the runner batches. Every write about a claimed job names its
 * lease and is applied only while that lease's token still matches, so a worker that lost a job can
 * never overwrite what its new owner does. The runner (worker, flusher, lease keeper, reaper, pruner)
 * holds all timing and policy; the store holds none.
 */
export interface JobStore {
  /**
   * Inserts jobs, all or none, and returns what happened to each, in order. A job whose `jobId`
   * exists, whose `unique` key is held, or whose throttle key names an unfinished job is not created
   * (`deduplicated`, with the existing job's id); a debounce add replaces the data of the waiting
   * job of its key (`replaced`). Jobs without `dedupe` go in one statement. With `transaction`, the
   * insert runs on the caller's open transaction and exists if and only if it commits.
   */
  enqueue(jobs: readonly SerializedJob[], transaction?: SqlClient): Promise<AddedJob[]>;
  /**
   * Leases at most `limit` ready jobs of `queue`, by priority then age; a job locked by another
   * worker is skipped, never waited on. The first `startNow` are marked started.
   */
  claim(queue: string, limit: number, startNow: number): Promise<LeasedJob[]>;
  /** Completes the jobs whose lease still matches; resolves to the refs it applied. */
  complete(jobs: readonly JobCompletion[]): Promise<Set<string>>;
  /**
   * Records failed attempts whose lease still matches: the refs moved to retry, those failed for
   * good, and those whose job was cancelled while it ran (they end `cancelled`, never retried).
   */
  fail(jobs: readonly JobFailure[]): Promise<{ retried: Set<string>; failed: Set<string>; cancelled: Set<string> }>;
  /**
   * Extends the leases that still match by each job's own lease length; resolves to the refs
   * renewed, and among them those whose job has been cancelled (the worker ends them).
   */
  renew(jobs: readonly JobRenewal[]): Promise<{ renewed: Set<string>; cancelled: Set<string> }>;
  /** Stores a running job's progress (JSON text) while its lease still matches; false when it does not. */
  progress(job: JobLease, json: string): Promise<boolean>;
  /** Hands leased jobs back to waiting at once, their attempt not counted. */
  release(jobs: readonly JobLease[]): Promise<void>;
  /**
   * Returns at most `limit` jobs of `queue` whose lease expired to waiting, or fails those past
   * `maxStalls`; one process reaps a queue at a time (the others get nothing).
   */
  reap(queue: string, limit: number, maxStalls: number): Promise<ReapedJob[]>;
  /** Makes at most `limit` due delayed jobs of `queue` waiting; resolves to ms until the next one is due, or null. */
  promote(queue: string, limit: number): Promise<number | null>;
  /**
   * Deletes at most `limit` finished jobs past their retention (`age` or `count` rule), or `unique`
   * keys whose window has ended (`keys`). One process at a time.
   */
  prune(rule: 'age' | 'count' | 'keys', limit: number): Promise<number>;
  getJob(queue: string, id: string): Promise<JobInfo | undefined>;
  /** One page of the jobs of `queue` in one state, by keyset (the cursor holds the last job's sort key). */
  list(queue: string, query: JobListQuery): Promise<JobPage>;
  counts(queue: string): Promise<JobCounts>;
  /** Moves one failed job back to waiting with a fresh attempt budget; false if it is not failed. */
  retry(queue: string, id: string): Promise<boolean>;
  /**
   * Retries at most `limit` jobs that failed up to `cutoff` (null: up to now); resolves to how many,
   * and the cutoff to pass to the next call, so jobs failing meanwhile are not picked up again.
   */
  retryFailed(queue: string, limit: number, cutoff: string | null): Promise<{ moved: number; cutoff: string | null }>;
  /** Deletes a job that is not active; false if absent or running. */
  remove(queue: string, id: string): Promise<boolean>;
  /**
   * Cancels a job: a waiting or delayed one is `cancelled` at once (kept by its failed-job
   * retention); a running one is marked, and its worker is signalled (`cancel`), so the attempt's
   * failure, a lease renewal, the reaper or a hand-back ends it `cancelled`.
   */
  cancel(queue: string, id: string): Promise<CancelOutcome>;
  pause(queue: string): Promise<void>;
  resume(queue: string): Promise<void>;

  /** At most `limit` schedules due now, oldest first, with the store's clock (epoch ms). Locks nothing. */
  dueSchedules(limit: number): Promise<{ due: DueSchedule[]; nowMs: number }>;
  /** Ms until the next schedule is due (0 if one is), or null when there are none. */
  nextScheduleWait(): Promise<number | null>;
  /**
   * Moves each schedule on whose due time is still the one read, enqueueing its tick in the same
   * statement: of processes that read the same due tick, exactly one enqueues it. Resolves to how
   * many jobs went in.
   */
  advanceSchedules(advances: readonly ScheduleAdvance[]): Promise<number>;
  /** Creates or updates schedules; a schedule keeps its next due time unless its timing changed. */
  upsertSchedules(schedules: readonly NewSchedule[]): Promise<void>;
  /**
   * The `@Job` schedules of a process at boot, in one transaction under a lock (replicas booting at
   * once take turns): `schedules` are upserted, and code schedules among `handled` not in them are
   * deleted. Resolves to the ids deleted.
   */
  reconcileSchedules(handled: readonly string[], schedules: readonly NewSchedule[]): Promise<string[]>;
  /** Deletes one schedule; false if there was none. */
  removeSchedule(id: string): Promise<boolean>;
  /** Every schedule, of one queue or all, by id. */
  listSchedules(queue: string | undefined): Promise<ScheduleInfo[]>;
}
