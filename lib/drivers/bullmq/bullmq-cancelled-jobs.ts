import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobCancelledError } from '../../errors/job-cancelled.error.js';
import type { CancelOutcome } from '../../queue/cancel-outcome.interface.js';
import type { JobInfo, JobProgress } from '../../queue/job.interface.js';
import type { JobListQuery, JobPage } from '../../queue/job-list.interface.js';
import { toJobInfo } from './bullmq-job-info.js';

/**
 * The failure BullMQ records for a job Ballast cancelled: the deferred failure a cancel writes on a
 * waiting job (BullMQ fails such a job on fetch, before any processor runs) and the reason a
 * cancelled running job is failed with. A job that fails with it is moved to the cancelled record.
 */
export const CANCELLED_REASON = 'ballast:cancelled';

/** Longest a cancel waits for a worker that fetched the job in the same moment to fail it. */
const SETTLE_MS = 2000;
const SETTLE_POLL_MS = 20;

/**
 * On the job's hash, atomically: `missing`, `finished` (in the completed or failed set), or else
 * marked with BullMQ's deferred failure (`defa`), so that from now on a fetch fails it unrecoverably
 * instead of running it; then `active` when a worker holds its lock, `pending` when none does (it
 * waits or is delayed). KEYS: job hash, its lock, completed set, failed set; ARGV: reason, id.
 */
const MARK = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if redis.call('ZSCORE', KEYS[3], ARGV[2]) or redis.call('ZSCORE', KEYS[4], ARGV[2]) then return 'finished' end
redis.call('HSET', KEYS[1], 'defa', ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then return 'active' end
return 'pending'`;

/**
 * Records a cancelled job and applies its retention, atomically. KEYS: the record's sorted set (id
 * by finish time) and hash (id to the job's JSON); ARGV: id, finish time, JSON, how many to keep (-1:
 * no bound), the oldest finish time to keep (-1: no bound). At most 1000 are trimmed per call.
 */
const RECORD = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
local function drop(ids)
  for _, id in ipairs(ids) do
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
  end
end
local keep = tonumber(ARGV[4])
if keep >= 0 then
  local over = redis.call('ZCARD', KEYS[1]) - keep
  if over > 0 then drop(redis.call('ZRANGE', KEYS[1], 0, math.min(over, 1000) - 1)) end
end
local oldest = tonumber(ARGV[5])
if oldest >= 0 then drop(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. oldest, 'LIMIT', 0, 1000)) end
return 1`;

/** A cancelled job as the record keeps it: `JobInfo` with its times in epoch ms. */
interface CancelledRecord {
  id: string;
  name: string;
  data: unknown;
  priority: number;
  attemptsMade: number;
  maxAttempts: number;
  createdAt: number;
  runAt: number;
  finishedAt: number;
  error?: { message: string; stack?: string };
  progress?: JobProgress;
}

/**
 * Cancelled jobs on BullMQ, which has no such state: a state of Ballast's own. A cancelled job leaves
 * BullMQ's sets (so nothing runs, counts or lists it there) for a record per queue under BullMQ's
 * keys (`<queue>:ballast:cancelled`, a sorted set by finish time, and `…:cancelled-jobs`, the jobs;
 * a job id never holds ':', so these never meet a job's keys), kept by the job's `removeOnFail`.
 *
 * A waiting or delayed job is first marked with BullMQ's own deferred failure, atomically with the
 * check that no worker holds it: from that moment a worker that fetches it fails it without running
 * it, so the removal that follows cannot race a run. A running job is marked too (so a retry or a
 * stall cannot run it again) and its worker is told on the `cancel` channel (and, should that
 * message be lost, by its own poll of the mark); the worker aborts the handler and fails the job with
 * `CANCELLED_REASON`, and moves it here.
 */
export class BullmqCancelledJobs {
  constructor(
    private readonly redis: Redis,
    private readonly queueOf: (name: string) => Queue,
    /** The pub/sub channel that tells workers of every process which running job was cancelled. */
    readonly channel: string,
  ) {}

  async cancel(queueName: string, id: string): Promise<CancelOutcome> {
    const queue = this.queueOf(queueName);
    const jobKey = queue.toKey(id);
    // Sent together on one connection (the read may land after the mark, which changes nothing it reads).
    const [job, hasProgress, marked] = await Promise.all([
      queue.getJob(id),
      this.redis.hexists(jobKey, 'progress'),
      this.redis.eval(MARK, 4, jobKey, `${jobKey}:lock`, queue.keys.completed!, queue.keys.failed!, CANCELLED_REASON, id) as Promise<string>,
    ]);
    if (marked === 'missing') return (await this.redis.hexists(this.jobsKey(queue), id)) === 1 ? 'finished' : 'missing';
    if (marked === 'finished') return 'finished';
    if (marked === 'active') {
      await this.redis.publish(this.channel, JSON.stringify([queueName, id]));
      return 'cancelling';
    }
    // Marked while it waited: it can no longer run. Removed unless a worker fetched it this moment,
    // in which case that worker is failing it with the mark and moves it here; wait for that.
    if ((await queue.remove(id)) === 1) {
      if (job) await this.record(queueName, job, { finishedAt: Date.now(), hasProgress: hasProgress === 1 });
      return 'cancelled';
    }
    await this.settle(queueName, id);
    return 'cancelled';
  }

  /**
   * Records a job cancelled while it ran here, before its worker fails it: the worker then has BullMQ
   * delete the job at once rather than pass it through the failed set, where it would count against
   * (and trim) the real failures `removeOnFail: n` keeps. `keep` is the job's own retention.
   */
  async recordRun(queueName: string, job: Job, keep: Job['opts']['removeOnFail']): Promise<void> {
    await this.record(queueName, job, {
      finishedAt: Date.now(),
      error: cancelledError(queueName, job),
      // The attempt it was cancelled in counts, as on Postgres.
      attemptsMade: job.attemptsMade + 1,
      keep,
    });
  }

  /**
   * Moves a job BullMQ failed with `CANCELLED_REASON` into the record and out of BullMQ's failed set.
   * Safe to repeat (the cancel and the worker may both do it). `ranHere`: the job's handler was
   * running, so its error is the cancellation's.
   */
  async moveFailed(queueName: string, job: Job, ranHere: boolean): Promise<void> {
    await this.record(queueName, job, { finishedAt: job.finishedOn ?? Date.now(), error: ranHere ? cancelledError(queueName, job) : undefined });
    await job.remove().catch(() => undefined);
  }

  /** Of `ids` (jobs running in a worker), those a cancel has marked. */
  async marked(queueName: string, ids: readonly string[]): Promise<string[]> {
    const queue = this.queueOf(queueName);
    const marks = await Promise.all(ids.map((id) => this.redis.hget(queue.toKey(id), 'defa')));
    return ids.filter((_, i) => marks[i] === CANCELLED_REASON);
  }

  async get(queueName: string, id: string): Promise<JobInfo | undefined> {
    const json = await this.redis.hget(this.jobsKey(this.queueOf(queueName)), id);
    return json === null ? undefined : fromRecord(queueName, json);
  }

  count(queueName: string): Promise<number> {
    return this.redis.zcard(this.setKey(this.queueOf(queueName)));
  }

  /** A page, newest first, by position (as BullMQ's own states are listed). */
  async list(queueName: string, query: JobListQuery, offset: number): Promise<JobPage> {
    const queue = this.queueOf(queueName);
    const ids = await this.redis.zrevrange(this.setKey(queue), offset, offset + query.limit);
    const shown = ids.slice(0, query.limit);
    const records = shown.length === 0 ? [] : await this.redis.hmget(this.jobsKey(queue), ...shown);
    const page: JobPage = { jobs: records.flatMap((json) => (json === null ? [] : [fromRecord(queueName, json)])) };
    if (ids.length > query.limit) page.next = query.cursor([String(offset + query.limit)]);
    return page;
  }

  /** Deletes a cancelled job's record; false if there was none. */
  async remove(queueName: string, id: string): Promise<boolean> {
    const queue = this.queueOf(queueName);
    const [removed] = await Promise.all([this.redis.zrem(this.setKey(queue), id), this.redis.hdel(this.jobsKey(queue), id)]);
    return removed === 1;
  }

  private async record(
    queueName: string,
    job: Job,
    {
      finishedAt,
      hasProgress,
      error,
      attemptsMade,
      keep = job.opts.removeOnFail,
    }: {
      finishedAt: number;
      /** Whether the job stored a progress (BullMQ reads an absent one as 0); read here when not given. */
      hasProgress?: boolean;
      error?: { message: string };
      attemptsMade?: number;
      keep?: Job['opts']['removeOnFail'];
    },
  ): Promise<void> {
    if (keep === true) return;
    const queue = this.queueOf(queueName);
    const progressStored = hasProgress ?? (await this.redis.hexists(queue.toKey(job.id ?? ''), 'progress')) === 1;
    const info = toJobInfo(queueName, job, 'cancelled', null, progressStored);
    const record: CancelledRecord = {
      id: info.id,
      name: info.name,
      data: info.data,
      priority: info.priority,
      attemptsMade: attemptsMade ?? info.attemptsMade,
      maxAttempts: info.maxAttempts,
      createdAt: info.createdAt.getTime(),
      runAt: info.runAt.getTime(),
      finishedAt,
    };
    // The cancellation's own error, or the last failure of an earlier attempt (not the mark).
    const shown = error ?? (info.error?.message === CANCELLED_REASON ? undefined : info.error);
    if (shown) record.error = shown;
    if (info.progress !== undefined) record.progress = info.progress;
    const count = typeof keep === 'number' ? keep : typeof keep === 'object' && keep.count !== undefined ? keep.count : -1;
    const oldest = typeof keep === 'object' && 'age' in keep && keep.age !== undefined ? finishedAt - keep.age * 1000 : -1;
    await this.redis.eval(RECORD, 2, this.setKey(queue), this.jobsKey(queue), info.id, finishedAt, JSON.stringify(record), count, oldest);
  }

  /** Waits for a worker that fetched the marked job to fail it, then moves it here itself (repeating the worker's move is harmless). */
  private async settle(queueName: string, id: string): Promise<void> {
    const queue = this.queueOf(queueName);
    const deadline = Date.now() + SETTLE_MS;
    while (Date.now() < deadline) {
      if ((await this.redis.exists(`${queue.toKey(id)}:lock`)) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
    const job = await queue.getJob(id);
    if (job?.failedReason === CANCELLED_REASON) await this.moveFailed(queueName, job, false);
  }

  private setKey(queue: Queue): string {
    return queue.toKey('ballast:cancelled');
  }

  private jobsKey(queue: Queue): string {
    return queue.toKey('ballast:cancelled-jobs');
  }
}

/** The error a cancelled run is recorded with, as on Postgres. */
function cancelledError(queue: string, job: Job): { message: string } {
  return { message: new JobCancelledError(queue, job.id ?? '').message };
}

function fromRecord(queue: string, json: string): JobInfo {
  const record = JSON.parse(json) as CancelledRecord;
  const info: JobInfo = {
    id: record.id,
    queue,
    name: record.name,
    data: record.data,
    state: 'cancelled',
    priority: record.priority,
    attemptsMade: record.attemptsMade,
    maxAttempts: record.maxAttempts,
    createdAt: new Date(record.createdAt),
    runAt: new Date(record.runAt),
    finishedAt: new Date(record.finishedAt),
  };
  if (record.error) info.error = record.error;
  if (record.progress !== undefined) info.progress = record.progress;
  return info;
}
