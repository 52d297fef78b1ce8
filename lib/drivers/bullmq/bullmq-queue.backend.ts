import { Logger } from '@nestjs/common';
import { ErrorCode, Queue, type Job, type JobType as BullmqJobType, type RedisOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { OutageLog } from '../../common/outage-log.js';
import { settlesWithin } from '../../common/settles-within.js';
import { DEFAULT_MAX_STALLS } from '../../queue/resolve-queue-config.js';
import type { RedisProtocolProviderName } from '../../common/provider-name.js';
import type { JobCounts, JobInfo, JobState } from '../../queue/job.interface.js';
import type { JobListQuery, JobPage } from '../../queue/job-list.interface.js';
import type { AddedJob } from '../../queue/added-job.interface.js';
import type { NewJob, QueueBackend, QueueWorker, WorkerSpec } from '../../queue/queue-backend.interface.js';
import { toJobInfo, toJobState } from './bullmq-job-info.js';
import { RETRY_LATERS_FIELD, toBullmqJobOptions } from './bullmq-job-options.js';
import { BullmqAddOutcome } from './bullmq-add-outcome.js';
import { BullmqSchedules } from './bullmq-schedules.js';
import { cronerRepeatStrategy } from './croner-repeat-strategy.js';
import type { NewSchedule } from '../../queue/new-schedule.interface.js';
import type { ScheduleInfo } from '../../queue/schedule-options.interface.js';
import type { BullmqQueueSettings } from './bullmq-queue.settings.js';
import { BullmqQueueWorker } from './bullmq-queue.worker.js';
import { BullmqCancelledJobs } from './bullmq-cancelled-jobs.js';
import { BullmqConcurrencySlots, PARKED_DELAY_MS } from './bullmq-concurrency-slots.js';
import { newBullmqJobId } from './bullmq-job-id.js';
import { BullmqCancelSignals } from './bullmq-cancel-signals.js';
import type { CancelOutcome } from '../../queue/cancel-outcome.interface.js';

/** How long closing waits for BullMQ's queues to close. */
const QUEUE_CLOSE_WAIT_MS = 1000;
/** Failed jobs retried per round trip by `retryAllFailed`. */
const RETRY_BATCH = 500;

type RetryOutcome = 'retried' | 'not-failed' | 'missing';

/** Where BullMQ keeps the jobs of each Ballast state, in listing order (cancelled jobs are Ballast's own: `BullmqCancelledJobs`). */
const LIST_SEGMENTS: Record<Exclude<JobState, 'cancelled'>, ReadonlyArray<{ type: BullmqJobType; oldestFirst: boolean }>> = {
  waiting: [
    { type: 'waiting', oldestFirst: true },
    { type: 'prioritized', oldestFirst: true },
  ],
  delayed: [{ type: 'delayed', oldestFirst: true }],
  active: [{ type: 'active', oldestFirst: true }],
  completed: [{ type: 'completed', oldestFirst: false }],
  failed: [{ type: 'failed', oldestFirst: false }],
};

/** A BullMQ cursor's key: the position of the page's first job. */
function offsetOf(query: JobListQuery): number {
  const key = query.after ?? [];
  const offset = key.length === 1 && /^\d{1,9}$/.test(key[0]!) ? Number(key[0]) : Number.NaN;
  if (!Number.isSafeInteger(offset)) throw query.invalidCursor();
  return offset;
}

/**
 * `QueueBackend` on BullMQ, for Valkey and Redis alike (`provider` only names it). Keys live under
 * BullMQ's prefix `<keyPrefix>queue` (`ballast:queue:<name>:wait`, ...), beside the cache's
 * `<keyPrefix>cache:`. Queues share the registry's client; each worker opens its own two
 * connections, since BullMQ blocks one on the fetch and needs `maxRetriesPerRequest: null` on both.
 * Failed jobs stay in BullMQ's failed set: that is the dead-letter state. Cancelled jobs, a state
 * BullMQ lacks, leave BullMQ's sets for a record of Ballast's own (`BullmqCancelledJobs`).
 */
export class BullmqQueueBackend implements QueueBackend {
  private readonly logger = new Logger('Ballast');
  /** Outages of the queues' shared connection; each worker logs its own connections' outages. */
  private readonly outage: OutageLog;
  private readonly outageSubject: string;
  private readonly prefix: string;
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Set<BullmqQueueWorker>();
  private readonly schedules: BullmqSchedules;
  private readonly cancelled: BullmqCancelledJobs;
  private readonly slots: BullmqConcurrencySlots;
  private readonly cancelSignals: BullmqCancelSignals;

  constructor(
    readonly provider: RedisProtocolProviderName,
    private readonly redis: Redis,
    keyPrefix: string,
    private readonly settings: BullmqQueueSettings = {},
  ) {
    // BullMQ joins its prefix and the queue name with ':' itself.
    this.prefix = `${keyPrefix}queue`;
    this.outageSubject = `${provider === 'valkey' ? 'Valkey' : 'Redis'} queue (prefix "${this.prefix}")`;
    this.outage = new OutageLog(this.logger, this.outageSubject);
    this.schedules = new BullmqSchedules(redis, this.prefix, (name) => this.queue(name));
    this.cancelled = new BullmqCancelledJobs(redis, (name) => this.queue(name), `${this.prefix}:ballast:cancel`);
    this.cancelSignals = new BullmqCancelSignals(redis, this.cancelled.channel, this.logger);
    this.slots = new BullmqConcurrencySlots(redis, (name) => this.queue(name));
  }

  cancel(queue: string, id: string): Promise<CancelOutcome> {
    return this.cancelled.cancel(queue, id);
  }

  upsertSchedule(schedule: NewSchedule): Promise<void> {
    return this.schedules.upsert(schedule);
  }

  removeSchedule(id: string): Promise<boolean> {
    return this.schedules.remove(id);
  }

  getSchedules(queue: string | undefined): Promise<ScheduleInfo[]> {
    return this.schedules.list(queue);
  }

  reconcileSchedules(handled: readonly string[], schedules: readonly NewSchedule[]): Promise<string[]> {
    return this.schedules.reconcile(handled, schedules);
  }

  async add(jobs: readonly NewJob[]): Promise<AddedJob[]> {
    const now = Date.now();
    if (jobs.some((job) => job.concurrency !== null)) return this.addKeyed(jobs, now);
    if (jobs.length === 1) return this.addOne(jobs[0]!, now);
    return this.addMany(jobs, now);
  }

  private async addOne(job: NewJob, now: number): Promise<AddedJob[]> {
    const queue = this.queue(job.queue);
    const options = toBullmqJobOptions(job, now);
    const outcome = new BullmqAddOutcome(this.redis, queue, job, options.jobId!);
    const added = await queue.add(job.name, job.data, options);
    return [await outcome.of(idOf(added))];
  }

  /**
   * Jobs with concurrency keys: those due now are admitted to the wait list while their key has room
   * (`BullmqConcurrencySlots.admit`, one call per key, sent together); the rest go in parked, into
   * the delayed set (a job with its own later run time keeps it, and is not counted), and are
   * registered as parked once they are there. A parked job reads as delayed until a run of its key
   * promotes it.
   */
  private async addKeyed(jobs: readonly NewJob[], now: number): Promise<AddedJob[]> {
    const groups = new Map<string, { queue: string; key: string; limit: number; indexes: number[] }>();
    // Drawn here rather than by `toBullmqJobOptions`: the admission names the jobs before they exist.
    const ids = jobs.map((job) => job.jobId ?? newBullmqJobId(now));
    jobs.forEach((job, index) => {
      if (job.concurrency === null || (job.runAt !== undefined && job.runAt > now)) return;
      const id = `${job.queue}\u0000${job.concurrency.key}`;
      const group = groups.get(id) ?? { queue: job.queue, key: job.concurrency.key, limit: job.concurrency.limit, indexes: [] };
      group.indexes.push(index);
      groups.set(id, group);
    });
    const parked = new Set<number>();
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const admitted = await this.slots.admit(group.queue, group.key, group.limit, group.indexes.map((i) => ids[i]!));
        for (const index of group.indexes.slice(admitted)) parked.add(index);
      }),
    );
    const placed = jobs.map((job, index): NewJob => ({
      ...job,
      jobId: ids[index],
      ...(parked.has(index) ? { runAt: now + PARKED_DELAY_MS } : {}),
    }));
    const added = placed.length === 1 ? await this.addOne(placed[0]!, now) : await this.addMany(placed, now);
    await Promise.all(
      [...groups.values()].map((group) => {
        const waiting = group.indexes.filter((index) => parked.has(index)).map((index) => ids[index]!);
        return waiting.length === 0 ? undefined : this.slots.park(group.queue, group.key, group.limit, waiting);
      }),
    );
    return added;
  }

  /**
   * Many jobs: one `addBulk` per queue, all sent at once on the shared connection, so one round trip.
   * Not a transaction: BullMQ pipelines a bulk (a MULTI of its scripts does not survive NOSCRIPT on
   * ioredis), so a connection lost mid-batch can leave part of it. `jobId` makes a retry safe.
   * Options are checked by `QueueService` first, so BullMQ's own checks do not refuse one queue's
   * share after another's went out.
   */
  private async addMany(jobs: readonly NewJob[], now: number): Promise<AddedJob[]> {
    const byQueue = new Map<string, number[]>();
    jobs.forEach((job, index) => {
      const indexes = byQueue.get(job.queue);
      if (indexes) indexes.push(index);
      else byQueue.set(job.queue, [index]);
    });
    // Every entry is built before anything is sent.
    const batches = [...byQueue].map(([queue, indexes]) => ({
      queue,
      indexes,
      entries: indexes.map((index) => {
        const job = jobs[index] as NewJob;
        return { name: job.name, data: job.data, opts: toBullmqJobOptions(job, now) };
      }),
    }));
    // The reads outcomes need go out first, on the same connection, before any add. A debounce key
    // an earlier entry of this call already used reads as taken: that entry's job is replaced.
    const outcomes = new Array<BullmqAddOutcome>(jobs.length);
    const debounced = new Set<string>();
    for (const { queue, indexes, entries } of batches) {
      indexes.forEach((index, k) => {
        const job = jobs[index] as NewJob;
        const key = job.dedupe?.mode === 'debounce' ? `${queue}\u0000${job.dedupe.key}` : undefined;
        outcomes[index] = new BullmqAddOutcome(this.redis, this.queue(queue), job, entries[k]!.opts.jobId!, key !== undefined && debounced.has(key));
        if (key !== undefined) debounced.add(key);
      });
    }
    const answered = new Array<string>(jobs.length);
    await Promise.all(
      batches.map(async ({ queue, indexes, entries }) => {
        const bulk = await this.queue(queue).addBulk(entries);
        bulk.forEach((job, k) => (answered[indexes[k] as number] = idOf(job)));
      }),
    );
    return Promise.all(outcomes.map((outcome, index) => outcome.of(answered[index]!)));
  }

  async getJob(queueName: string, id: string): Promise<JobInfo | undefined> {
    const queue = this.queue(queueName);
    // Sent together on one connection: one round trip.
    const [job, bullmqState, delayedScore, hasProgress] = await Promise.all([
      queue.getJob(id),
      queue.getJobState(id),
      this.redis.zscore(queue.keys.delayed, id),
      // BullMQ reads an absent progress as 0; only a stored one is reported.
      this.redis.hexists(queue.toKey(id), 'progress'),
    ]);
    const state = toJobState(bullmqState);
    if (!job || !state) return this.cancelled.get(queueName, id);
    return toJobInfo(queueName, job, state, state === 'delayed' ? delayedScore : null, hasProgress === 1);
  }

  /**
   * A page by position: BullMQ keeps each state as a list or sorted set, read here in the order
   * `JobPage` promises (waiting: the unprioritized list, oldest first, which BullMQ takes first,
   * then the prioritized set by priority), with the position of the next page as the cursor.
   */
  async getJobs(queueName: string, query: JobListQuery): Promise<JobPage> {
    const { state, limit, after } = query;
    const queue = this.queue(queueName);
    let skip = after === undefined ? 0 : offsetOf(query);
    if (state === 'cancelled') return this.cancelled.list(queueName, query, skip);
    const start = skip;
    const jobs: Job[] = [];
    const segments = LIST_SEGMENTS[state];
    for (const [index, segment] of segments.entries()) {
      const want = limit + 1 - jobs.length;
      if (want <= 0) break;
      // Only a segment with another after it needs its size, to know where that one starts.
      if (index < segments.length - 1) {
        const size = await queue.getJobCountByTypes(segment.type);
        if (skip >= size) {
          skip -= size;
          continue;
        }
      }
      const found = await queue.getJobs([segment.type], skip, skip + want - 1, segment.oldestFirst);
      for (const job of found) if (job) jobs.push(job);
      skip = 0;
    }
    const shown = jobs.slice(0, limit);
    // Sent together on the shared connection: one round trip for the page.
    const [scores, progress] = await Promise.all([
      state === 'delayed' ? Promise.all(shown.map((job) => this.redis.zscore(queue.keys.delayed, idOf(job)))) : undefined,
      Promise.all(shown.map((job) => this.redis.hexists(queue.toKey(idOf(job)), 'progress'))),
    ]);
    const page: JobPage = { jobs: shown.map((job, i) => toJobInfo(queueName, job, state, scores?.[i] ?? null, progress[i] === 1)) };
    if (jobs.length > limit) page.next = query.cursor([String(start + limit)]);
    return page;
  }

  async getCounts(queueName: string): Promise<JobCounts> {
    const [counts, cancelled] = await Promise.all([
      this.queue(queueName).getJobCounts('waiting', 'prioritized', 'waiting-children', 'delayed', 'active', 'completed', 'failed'),
      this.cancelled.count(queueName),
    ]);
    const count = (type: string) => counts[type] ?? 0;
    return {
      waiting: count('waiting') + count('prioritized') + count('waiting-children'),
      delayed: count('delayed'),
      active: count('active'),
      completed: count('completed'),
      failed: count('failed'),
      cancelled,
    };
  }

  async retry(queueName: string, id: string): Promise<boolean> {
    return (await this.retryOne(this.queue(queueName), id)) === 'retried';
  }

  async retryAllFailed(queueName: string): Promise<number> {
    const queue = this.queue(queueName);
    // The failed set is scored by failure time: jobs that fail again while this runs score above
    // `until` and are left for the next call instead of looping for ever.
    const until = Date.now();
    let retried = 0;
    // Ids whose job hash is gone stay in the set; page past them.
    let skipped = 0;
    for (;;) {
      const ids = await this.redis.zrangebyscore(queue.keys.failed, '-inf', until, 'LIMIT', skipped, RETRY_BATCH);
      if (ids.length === 0) return retried;
      const outcomes = await Promise.all(ids.map((id) => this.retryOne(queue, id)));
      for (const outcome of outcomes) {
        if (outcome === 'retried') retried++;
        else if (outcome === 'missing') skipped++;
      }
    }
  }

  async remove(queueName: string, id: string): Promise<boolean> {
    const queue = this.queue(queueName);
    // BullMQ's remove answers 1 for an absent job too. EXISTS leaves first on the same connection,
    // so it sees the job as it was just before the removal.
    const [exists, removed] = await Promise.all([this.redis.exists(queue.toKey(id)), queue.remove(id)]);
    if (exists === 1) return removed === 1;
    return this.cancelled.remove(queueName, id);
  }

  async pause(queueName: string): Promise<void> {
    // A flag in the queue's meta hash: every worker of every process stops fetching.
    await this.queue(queueName).pause();
  }

  async resume(queueName: string): Promise<void> {
    await this.queue(queueName).resume();
  }

  async startWorker(spec: WorkerSpec): Promise<QueueWorker> {
    // One lease per BullMQ worker: the longest any of the queue's handlers asks for.
    const lockDuration = spec.executor.longestLeaseMs;
    let stopHearing: () => void = () => undefined;
    const worker = new BullmqQueueWorker(
      spec,
      {
        connection: workerConnection(this.redis),
        prefix: this.prefix,
        lockDuration,
        stalledInterval: this.settings.stalledIntervalMs ?? lockDuration,
        maxStalledCount: this.settings.maxStalledCount ?? DEFAULT_MAX_STALLS,
        countRetryLater: (id) => this.redis.hincrby(this.queue(spec.executor.queue).toKey(id), RETRY_LATERS_FIELD, 1),
        slots: this.slots,
      },
      (closed) => {
        this.workers.delete(closed);
        stopHearing();
      },
      new OutageLog(this.logger, `${this.outageSubject}, worker of ${JSON.stringify(spec.executor.queue)}`),
      this.cancelled,
    );
    this.workers.add(worker);
    // Registered at once: a worker that fails to start must still stop hearing when it closes.
    const hearing = this.cancelSignals.listen(spec.executor.queue, (id) => worker.cancel(id));
    try {
      [stopHearing] = await Promise.all([hearing, worker.waitUntilReady()]);
    } catch (error) {
      await hearing.then((stop) => stop(), () => undefined);
      await worker.close();
      throw error;
    }
    return worker;
  }

  async close(): Promise<void> {
    // Workers first: a running job that enqueues must still find its queue open.
    await Promise.all([...this.workers].map((worker) => worker.close()));
    await settlesWithin(this.cancelSignals.close(), QUEUE_CLOSE_WAIT_MS);
    const queues = [...this.queues.values()];
    this.queues.clear();
    // Queues share the registry's client; closing them leaves it open. Bounded: a server that stopped
    // answering must not hold up shutdown (the registry then drops the connection).
    await settlesWithin(Promise.all(queues.map((queue) => queue.close())), QUEUE_CLOSE_WAIT_MS);
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.redis, prefix: this.prefix, settings: { repeatStrategy: cronerRepeatStrategy } });
      queue.on('error', (error) => this.outage.failed(`BullMQ queue ${JSON.stringify(name)}`, error));
      this.queues.set(name, queue);
    }
    return queue;
  }

  private async retryOne(queue: Queue, id: string): Promise<RetryOutcome> {
    const job = await queue.getJob(id);
    if (!job) return 'missing';
    try {
      // A fresh attempt budget, as after a new add.
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      // A fresh budget of RetryLaterError too, as on Postgres.
      await this.redis.hdel(queue.toKey(id), RETRY_LATERS_FIELD);
      return 'retried';
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === ErrorCode.JobNotInState) return 'not-failed';
      if (code === ErrorCode.JobNotExist) return 'missing';
      throw error;
    }
  }
}

/**
 * The registry client's options with the change BullMQ requires of worker connections: commands
 * wait out a reconnect instead of failing. A `retryStrategy: null` (never reconnect) is dropped, as a
 * worker must outlive a Redis restart; the worker then uses ioredis's default.
 */
function workerConnection(redis: Redis): RedisOptions {
  const { retryStrategy, ...options } = redis.options;
  return retryStrategy ? { ...options, retryStrategy, maxRetriesPerRequest: null } : { ...options, maxRetriesPerRequest: null };
}

function idOf(job: { id?: string }): string {
  // BullMQ sets the id of every job it added; its type leaves room for jobs not yet added.
  if (job.id === undefined) throw new Error('BullMQ returned a job without an id');
  return job.id;
}
