import { afterAll, afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { Redis } from 'ioredis';
import { CANCELLED_REASON } from '../../lib/drivers/bullmq/bullmq-cancelled-jobs.js';
import {
  InvalidJobNameError,
  InvalidJobOptionError,
  JobCancelledError,
  JobTimeoutError,
  RateLimitService,
  UnsupportedOptionError,
  type JobFailedEvent,
  type JobInfo,
  type JobProgressEvent,
  type QueueService,
} from '../../lib/index.js';
import { QueueWorkers } from '../../lib/queue/queue.workers.js';
import { ALL_BACKENDS, setupBackend, type BackendSetup, type TestBackend } from '../support/backends.js';
import { closeSharedPglite, sharedPglite } from '../support/shared-pglite.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL, TEST_VALKEY_URL } from '../support/test-env.js';
import { waitFor } from '../support/wait-for.js';
import { bootQueueApp, deleteKeys, type QueueTestApp } from './support/queue-test-app.js';
import { JOB_BUDGET_LIMIT, JOB_BUDGET_POLICY, JOB_BUDGET_WINDOW_MS } from './support/contract-jobs.js';

afterAll(closeSharedPglite);

/** Generous deadlines: the suites share a 2-core machine with other work. */
const DEADLINE = 10_000;

/**
 * The queue contract: every test runs unchanged on each backend, through the Nest module and real
 * `@Job` classes (test/queue/support/contract-jobs.ts). The one documented difference,
 * transactional enqueue, is asserted on both sides: it works on Postgres and is refused elsewhere.
 */
describe.each(ALL_BACKENDS)('queue contract on %s', (backend: TestBackend) => {
  let setup: BackendSetup;
  let app: QueueTestApp;
  let queue: QueueService;
  const extraApps: QueueTestApp[] = [];

  beforeEach(async () => {
    setup = await setupBackend(backend, 'queue');
    app = await bootQueueApp(setup);
    queue = app.queue;
  });

  afterEach(async () => {
    app.probe.release();
    for (const extra of extraApps.splice(0)) {
      extra.probe.release();
      await extra.close();
    }
    await app.close();
    await setup.cleanup();
    if (backend === 'redis' || backend === 'valkey') await deleteKeys(setup.keyPrefix, backend === 'redis' ? TEST_REDIS_URL : TEST_VALKEY_URL);
  });

  async function finished(id: string, queueName: string, state: 'completed' | 'failed' | 'cancelled'): Promise<JobInfo> {
    const job = await waitFor(`job ${id} to be ${state}`, async () => {
      const found = await queue.getJob(queueName, id);
      return found?.state === state ? found : undefined;
    }, DEADLINE);
    return job!;
  }

  /**
   * The job's state as the store holds it. On Postgres the raw column, which only the worker's
   * promotion moves from delayed to waiting (`getJob` shows a due delayed job as waiting already);
   * BullMQ keeps a due job in its delayed set until a worker's fetch promotes it.
   */
  async function storedState(queueName: string, id: string): Promise<string | undefined> {
    if (backend === 'redis' || backend === 'valkey') return (await queue.getJob(queueName, id))?.state;
    const text = `SELECT state FROM "${setup.schema}".queue_jobs WHERE queue = $1 AND coalesce(job_key, id::text) = $2`;
    if (backend === 'pglite') return (await (await sharedPglite()).query<{ state: string }>(text, [queueName, id])).rows[0]?.state;
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      return (await client.query<{ state: string }>(text, [queueName, id])).rows[0]?.state;
    } finally {
      await client.end();
    }
  }

  /** Writes the mark `cancel` leaves on a running job, as the store keeps it, without the signal that goes with it. */
  async function markCancelledWithoutSignal(queueName: string, id: string): Promise<void> {
    if (backend === 'redis' || backend === 'valkey') {
      const redis = new Redis(backend === 'redis' ? TEST_REDIS_URL : TEST_VALKEY_URL);
      try {
        await redis.hset(`${setup.keyPrefix}queue:${queueName}:${id}`, 'defa', CANCELLED_REASON);
      } finally {
        redis.disconnect();
      }
      return;
    }
    const text = `UPDATE "${setup.schema}".queue_jobs SET cancel_requested = true WHERE queue = $1 AND coalesce(job_key, id::text) = $2 AND state = 'active'`;
    if (backend === 'pglite') {
      await (await sharedPglite()).query(text, [queueName, id]);
      return;
    }
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(text, [queueName, id]);
    } finally {
      await client.end();
    }
  }

  /**
   * Resolves once the worker of `queueName` (paused or not) has looked for jobs twice since the
   * call: each time, a delayed job added for the purpose is seen promoted in the store, which only
   * that worker does, and only on its way to claiming (BullMQ promotes and claims in one script;
   * the Postgres worker promotes, then claims, so the second promotion comes after a whole claim).
   * A tick that reads as not delayed right after its add proves nothing (the machine was slow, or
   * the store wrote it as waiting): it is tried again with a longer delay.
   */
  async function workerLookedTwice(queueName: string): Promise<void> {
    let delay = 50;
    for (let looks = 0; looks < 2; ) {
      const { id: tick } = await queue.add(queueName, 'record', 'tick', { delay, jobId: `tick-${looks}-${delay}-${Date.now()}` });
      if ((await storedState(queueName, tick)) !== 'delayed') {
        delay *= 2;
        continue;
      }
      const promoted = async () => (await storedState(queueName, tick)) !== 'delayed';
      await waitFor(`the ${queueName} worker to promote delayed job ${tick}`, promoted, DEADLINE, 20);
      looks++;
    }
  }

  it('runs on the chosen provider', () => {
    expect(queue.provider).toBe(setup.provider);
  });

  it('runs a job once, handing the handler its data and context, and stores its result', async () => {
    const { id } = await queue.add('main', 'record', { user: 7, tags: ['a', 'b'] }, { removeOnComplete: false });
    const job = await finished(id, 'main', 'completed');
    expect(job).toMatchObject({ id, queue: 'main', name: 'record', data: { user: 7, tags: ['a', 'b'] }, attemptsMade: 1, maxAttempts: 1 });
    expect(job.result).toEqual({ echoed: { user: 7, tags: ['a', 'b'] }, attempt: 1 });
    expect(job.finishedAt).toBeInstanceOf(Date);
    expect(app.probe.runsOf('main', id)).toEqual([
      expect.objectContaining({ id, name: 'record', queue: 'main', attempt: 1, maxAttempts: 1, hasSignal: true }),
    ]);
    await waitFor('the completed event', () => app.probe.eventsOf('main', id).length === 1, DEADLINE);
    expect(app.probe.eventsOf('main', id)[0]).toMatchObject({ type: 'completed', queue: 'main', jobId: id, name: 'record', attempt: 1, result: job.result });
  });

  it('removes a completed job by default and keeps it when asked', async () => {
    const { id: gone } = await queue.add('main', 'record', 1);
    const { id: kept } = await queue.add('main', 'record', 2, { removeOnComplete: false });
    await finished(kept, 'main', 'completed');
    await waitFor('the default job to run', () => app.probe.runsOf('main', gone).length === 1, DEADLINE);
    await waitFor('the default job to be removed', async () => (await queue.getJob('main', gone)) === undefined, DEADLINE);
  });

  it('runs jobs of one priority in FIFO order', async () => {
    await queue.pause('main');
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await queue.add('main', 'record', { i })).id);
    await queue.resume('main');
    await waitFor('all jobs to run', () => app.probe.runs.length === 12, DEADLINE);
    expect(app.probe.runs.map((run) => run.id)).toEqual(ids);
  });

  it('runs lower priority values first, FIFO within each', async () => {
    await queue.pause('main');
    const priorities = [5, 0, 3, 0, 1, 5, 3, 1, 0, 2];
    const added: Array<{ id: string; priority: number; order: number }> = [];
    for (const [order, priority] of priorities.entries()) {
      added.push({ id: (await queue.add('main', 'record', { order }, { priority })).id, priority, order });
    }
    await queue.resume('main');
    await waitFor('all jobs to run', () => app.probe.runs.length === priorities.length, DEADLINE);
    const expected = [...added].sort((a, b) => a.priority - b.priority || a.order - b.order).map((job) => job.id);
    expect(app.probe.runs.map((run) => run.id)).toEqual(expected);
  });

  it('holds a delayed job until its time, given as delay or runAt', async () => {
    const before = Date.now();
    const { id: byDelay } = await queue.add('main', 'record', 'delay', { delay: 700 });
    const { id: byRunAt } = await queue.add('main', 'record', 'runAt', { runAt: new Date(before + 900) });
    const { id: now } = await queue.add('main', 'record', 'now');
    expect((await queue.getJob('main', byDelay))?.state).toBe('delayed');
    const delayed = await queue.getJob('main', byRunAt);
    expect(delayed?.state).toBe('delayed');
    expect(Math.abs(delayed!.runAt.getTime() - (before + 900))).toBeLessThan(50);
    await waitFor('the delayed jobs to run', () => app.probe.runs.length === 3, DEADLINE);
    expect(app.probe.runs.map((run) => run.id)).toEqual([now, byDelay, byRunAt]);
    // A few ms of slack: the database's clock and Node's can round differently.
    expect(app.probe.runsOf('main', byDelay)[0]!.startedAt).toBeGreaterThanOrEqual(before + 700 - 5);
    expect(app.probe.runsOf('main', byRunAt)[0]!.startedAt).toBeGreaterThanOrEqual(before + 900 - 5);
  });

  it('retries a failing job with backoff, then completes it', async () => {
    const { id } = await queue.add('retry', 'flaky', { n: 1 });
    const job = await finished(id, 'retry', 'completed');
    expect(job.result).toBe('ok on attempt 3');
    expect(job.attemptsMade).toBe(3);
    const runs = app.probe.runsOf('retry', id);
    expect(runs.map((run) => run.attempt)).toEqual([1, 2, 3]);
    expect(runs.every((run) => run.maxAttempts === 3)).toBe(true);
    // Fixed backoff of 150 ms from the @Job defaults, between every two attempts.
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.startedAt - runs[i - 1]!.startedAt).toBeGreaterThanOrEqual(140);
    await waitFor('the events', () => app.probe.eventsOf('retry', id).length === 3, DEADLINE);
    const events = app.probe.eventsOf('retry', id);
    expect(events.map((event) => event.type)).toEqual(['retrying', 'retrying', 'completed']);
    expect(events[0]).toMatchObject({ type: 'retrying', queue: 'retry', name: 'flaky', attempt: 1, error: expect.objectContaining({ message: 'boom on attempt 1' }) });
    expect((events[0] as { nextRunAt: Date }).nextRunAt).toBeInstanceOf(Date);
  });

  it('backs off exponentially when asked', async () => {
    app.probe.flakySucceedsFrom = 3;
    const { id } = await queue.add('retry', 'flaky', {}, { backoff: { type: 'exponential', delay: 150 } });
    await finished(id, 'retry', 'completed');
    const [first, second, third] = app.probe.runsOf('retry', id);
    expect(second!.startedAt - first!.startedAt).toBeGreaterThanOrEqual(140);
    expect(third!.startedAt - second!.startedAt).toBeGreaterThanOrEqual(290);
  });

  it('moves a job whose attempts run out to failed, with the last error, and fires failed', async () => {
    app.probe.flakySucceedsFrom = 99;
    const { id } = await queue.add('retry', 'flaky', {}, { attempts: 2, backoff: 50 });
    const job = await finished(id, 'retry', 'failed');
    expect(job.attemptsMade).toBe(2);
    expect(job.maxAttempts).toBe(2);
    expect(job.error?.message).toBe('boom on attempt 2');
    expect(job.error?.stack).toContain('boom on attempt 2');
    expect(app.probe.runsOf('retry', id)).toHaveLength(2);
    await waitFor('the failed event', () => app.probe.eventsOf('retry', id).some((event) => event.type === 'failed'), DEADLINE);
    const failed = app.probe.eventsOf('retry', id).find((event): event is JobFailedEvent => event.type === 'failed')!;
    expect(failed).toMatchObject({ queue: 'retry', jobId: id, name: 'flaky', attempt: 2 });
    expect(failed.error).toBeInstanceOf(Error);
    expect(failed.error.message).toBe('boom on attempt 2');
    expect((await queue.getCounts('retry')).failed).toBe(1);
  });

  it('retries a failed job with a fresh attempt budget, and every failed job at once', async () => {
    app.probe.flakySucceedsFrom = 99;
    const ids = [
      (await queue.add('retry', 'flaky', { k: 1 }, { attempts: 1 })).id,
      (await queue.add('retry', 'flaky', { k: 2 }, { attempts: 1 })).id,
      (await queue.add('retry', 'flaky', { k: 3 }, { attempts: 1 })).id,
    ];
    for (const id of ids) await finished(id, 'retry', 'failed');
    app.probe.flakySucceedsFrom = 1;
    expect(await queue.retry('retry', ids[0]!)).toBe(true);
    const retried = await finished(ids[0]!, 'retry', 'completed');
    expect(retried.result).toBe('ok on attempt 1');
    // Not failed (any more): nothing to retry.
    expect(await queue.retry('retry', ids[0]!)).toBe(false);
    expect(await queue.retry('retry', 'missing-job')).toBe(false);
    expect(await queue.retryAllFailed('retry')).toBe(2);
    for (const id of ids.slice(1)) await finished(id, 'retry', 'completed');
    expect(await queue.retryAllFailed('retry')).toBe(0);
    expect((await queue.getCounts('retry')).failed).toBe(0);
  });

  it('treats jobId as an idempotency key: the second add returns the first job and creates nothing', async () => {
    await queue.pause('main');
    const first = await queue.add('main', 'record', { version: 1 }, { jobId: 'order-42', removeOnComplete: false });
    const second = await queue.add('main', 'record', { version: 2 }, { jobId: 'order-42' });
    expect(first).toEqual({ id: 'order-42', outcome: 'created' });
    expect(second).toEqual({ id: 'order-42', outcome: 'deduplicated' });
    const bulk = await queue.addBulk([
      { queue: 'main', name: 'record', data: { version: 3 }, options: { jobId: 'order-42' } },
      { queue: 'main', name: 'record', data: { fresh: true }, options: { jobId: 'order-43' } },
      { queue: 'main', name: 'record', data: { fresh: 'again' }, options: { jobId: 'order-43' } },
    ]);
    expect(bulk).toEqual([
      { id: 'order-42', outcome: 'deduplicated' },
      { id: 'order-43', outcome: 'created' },
      { id: 'order-43', outcome: 'deduplicated' },
    ]);
    expect((await queue.getCounts('main')).waiting).toBe(2);
    await queue.resume('main');
    const job = await finished(first.id, 'main', 'completed');
    expect(job.data).toEqual({ version: 1 });
    await waitFor('order-43 to run', () => app.probe.runsOf('main', 'order-43').length === 1, DEADLINE);
    expect(app.probe.runsOf('main', 'order-42')).toHaveLength(1);
    expect(app.probe.runsOf('main', 'order-43')[0]!.data).toEqual({ fresh: true });
  });

  it('keeps a unique key for its window whatever becomes of the job; the default key is the name and the data', async () => {
    const first = await queue.add('main', 'record', { user: 1, plan: 'pro' }, { unique: { for: 60_000 } });
    expect(first.outcome).toBe('created');
    // Same name, same data (keys in another order): the same job.
    expect(await queue.add('main', 'record', { plan: 'pro', user: 1 }, { unique: { for: 60_000 } })).toEqual({ id: first.id, outcome: 'deduplicated' });
    // Other data, or a key of its own: another job.
    const other = await queue.add('main', 'record', { user: 2, plan: 'pro' }, { unique: { for: 60_000 } });
    expect(other.outcome).toBe('created');
    expect(other.id).not.toBe(first.id);
    // The job runs and is removed (the default retention); the key still holds.
    await waitFor('the unique job to run', () => app.probe.runsOf('main', first.id).length === 1, DEADLINE);
    await waitFor('the unique job to be removed', async () => (await queue.getJob('main', first.id)) === undefined, DEADLINE);
    expect(await queue.add('main', 'record', { user: 1, plan: 'pro' }, { unique: { for: 60_000 } })).toEqual({ id: first.id, outcome: 'deduplicated' });
    expect(app.probe.runsOf('main', first.id)).toHaveLength(1);
    // A named key spans data; an addBulk that names it twice creates one job.
    const bulk = await queue.addBulk([
      { queue: 'main', name: 'record', data: 'a', options: { unique: { key: 'report-2026-12', for: 60_000 } } },
      { queue: 'main', name: 'record', data: 'b', options: { unique: { key: 'report-2026-12', for: 60_000 } } },
      { queue: 'main', name: 'record', data: 'c' },
    ]);
    expect(bulk.map((job) => job.outcome)).toEqual(['created', 'deduplicated', 'created']);
    expect(bulk[1]!.id).toBe(bulk[0]!.id);
    // Keys are per queue.
    expect((await queue.add('other', 'record', 'x', { unique: { key: 'report-2026-12', for: 60_000 } })).outcome).toBe('created');
  });

  it('frees a unique key when its window ends', async () => {
    const first = await queue.add('main', 'record', 1, { unique: { key: 'short', for: 300 } });
    expect(first.outcome).toBe('created');
    const started = Date.now();
    // Every add inside the window is folded into the first job; the first one after it is new.
    const inWindow: unknown[] = [];
    const next = await waitFor(
      'an add after the window to create a job',
      async () => {
        const added = await queue.add('main', 'record', 2, { unique: { key: 'short', for: 300 } });
        if (added.outcome === 'created') return added;
        inWindow.push(added);
        return undefined;
      },
      DEADLINE,
      20,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(inWindow.length).toBeGreaterThan(0);
    expect(inWindow).toEqual(inWindow.map(() => ({ id: first.id, outcome: 'deduplicated' })));
    expect(next!.id).not.toBe(first.id);
    await waitFor('both jobs to run', () => app.probe.runsOf('main', first.id).length + app.probe.runsOf('main', next!.id).length === 2, DEADLINE);
  });

  it('debounces: each add pushes the run back and replaces the data; one run, with the last data', async () => {
    const delay = 600;
    const first = await queue.add('main', 'record', { v: 1 }, { debounce: { key: 'profile-7', delay } });
    expect(first.outcome).toBe('created');
    const second = await queue.add('main', 'record', { v: 2 }, { debounce: { key: 'profile-7', delay } });
    const lastAt = Date.now();
    const third = await queue.add('main', 'record', { v: 3 }, { debounce: { key: 'profile-7', delay } });
    expect([second.outcome, third.outcome]).toEqual(['replaced', 'replaced']);
    const pending = await queue.getJob('main', third.id);
    expect(pending).toMatchObject({ state: 'delayed', data: { v: 3 } });
    // Another key is another job.
    const apart = await queue.add('main', 'record', { v: 'apart' }, { debounce: { key: 'profile-8', delay } });
    expect(apart.outcome).toBe('created');
    await waitFor('the debounced jobs to run', () => app.probe.runs.length === 2, DEADLINE);
    const run = app.probe.runsOf('main', third.id);
    expect(run.map((r) => r.data)).toEqual([{ v: 3 }]);
    expect(run[0]!.startedAt - lastAt).toBeGreaterThanOrEqual(delay - 50);
    await waitFor('nothing of the key left to run', async () => {
      const counts = await queue.getCounts('main');
      return counts.waiting + counts.delayed + counts.active === 0;
    }, DEADLINE);
    expect(app.probe.runs.map((r) => r.data)).toEqual(expect.arrayContaining([{ v: 3 }, { v: 'apart' }]));
    expect(app.probe.runs).toHaveLength(2);
  });

  it('debounces an add that comes while the job runs into a job of its own, losing no data', async () => {
    const running = await queue.add('held', 'hold', { v: 1 }, { debounce: { key: 'sync', delay: 50 } });
    await waitFor('the debounced job to start', () => app.probe.runsOf('held', running.id).length === 1, DEADLINE);
    const next = await queue.add('held', 'hold', { v: 2 }, { debounce: { key: 'sync', delay: 50 } });
    expect(next.outcome).toBe('created');
    expect(next.id).not.toBe(running.id);
    app.probe.release();
    await waitFor('the second job to run', () => app.probe.runsOf('held', next.id).length === 1, DEADLINE);
    expect(app.probe.runsOf('held', next.id)[0]!.data).toEqual({ v: 2 });
    expect(app.probe.runsOf('held', running.id)).toHaveLength(1);
  });

  it('throttles: the first add runs after the window, later adds are dropped until it has finished', async () => {
    const first = await queue.add('main', 'record', { n: 1 }, { throttle: { key: 'digest', for: 400 } });
    expect(first.outcome).toBe('created');
    expect(await queue.add('main', 'record', { n: 2 }, { throttle: { key: 'digest', for: 400 } })).toEqual({ id: first.id, outcome: 'deduplicated' });
    expect(await queue.add('main', 'record', { n: 3 }, { throttle: { key: 'digest', for: 400 } })).toEqual({ id: first.id, outcome: 'deduplicated' });
    expect((await queue.getJob('main', first.id))?.data).toEqual({ n: 1 });
    await waitFor('the throttled job to run', () => app.probe.runsOf('main', first.id).length === 1, DEADLINE);
    expect(app.probe.runsOf('main', first.id)[0]!.data).toEqual({ n: 1 });
    // Once it has finished, the next add opens a new window.
    await waitFor('the throttled job to finish', async () => (await queue.getJob('main', first.id)) === undefined, DEADLINE);
    const later = await queue.add('main', 'record', { n: 4 }, { throttle: { key: 'digest', for: 400 } });
    expect(later.outcome).toBe('created');
    expect(later.id).not.toBe(first.id);
    await waitFor('the second window\'s job to run', () => app.probe.runsOf('main', later.id).length === 1, DEADLINE);
    expect(app.probe.runs.map((r) => r.data)).toEqual([{ n: 1 }, { n: 4 }]);
  });

  it('retries failed keyed jobs like any other, however many failed under one key', async () => {
    app.probe.flakySucceedsFrom = 99;
    const first = await queue.add('retry', 'flaky', { n: 1 }, { attempts: 1, throttle: { key: 'flaky-digest', for: 20 } });
    await finished(first.id, 'retry', 'failed');
    // Failed is finished: the key is free for the next job, which fails too.
    const second = await queue.add('retry', 'flaky', { n: 2 }, { attempts: 1, throttle: { key: 'flaky-digest', for: 20 } });
    expect(second.outcome).toBe('created');
    await finished(second.id, 'retry', 'failed');
    app.probe.flakySucceedsFrom = 1;
    expect(await queue.retryAllFailed('retry')).toBe(2);
    for (const id of [first.id, second.id]) await finished(id, 'retry', 'completed');
  });

  it('tells a unique add with a jobId that exists from a new one', async () => {
    await queue.pause('main');
    const options = { jobId: 'order-77', unique: { key: 'order-77', for: 60_000 }, removeOnComplete: false };
    expect(await queue.add('main', 'record', 1, options)).toEqual({ id: 'order-77', outcome: 'created' });
    expect(await queue.add('main', 'record', 2, options)).toEqual({ id: 'order-77', outcome: 'deduplicated' });
    expect((await queue.getJob('main', 'order-77'))?.data).toBe(1);
  });

  it('refuses ids no store keeps as given (half a character, NUL), and keeps whole-character ids apart', async () => {
    for (const jobId of ['order-\ud800', 'order-\udbff', 'a\u0000b']) {
      await expect(queue.add('main', 'record', {}, { jobId })).rejects.toBeInstanceOf(InvalidJobNameError);
    }
    await queue.pause('main');
    expect((await queue.add('main', 'record', { n: 1 }, { jobId: 'order-\ufffd', removeOnComplete: false })).id).toBe('order-\ufffd');
    expect((await queue.add('main', 'record', { n: 2 }, { jobId: 'order-😀', removeOnComplete: false })).id).toBe('order-😀');
    expect((await queue.getJob('main', 'order-\ufffd'))?.data).toEqual({ n: 1 });
    expect((await queue.getJob('main', 'order-😀'))?.data).toEqual({ n: 2 });
    expect((await queue.getCounts('main')).waiting).toBe(2);
  });

  it('stores any JSON payload exactly, through add and addBulk', async () => {
    await queue.pause('main');
    const payloads: unknown[] = [
      'a plain string',
      'quotes " and \\ backslashes, \n newlines, tabs \t',
      { nested: { list: [1, 'two', null, true, 2.5], empty: {}, none: [] }, 'key "quoted"': 'v' },
      'unicode: é 漢字 😀',
      null,
      0,
      false,
      [],
    ];
    const single = (await Promise.all(payloads.map((data) => queue.add('main', 'record', data)))).map((added) => added.id);
    const bulk = (await queue.addBulk(payloads.map((data) => ({ queue: 'main', name: 'record', data })))).map((added) => added.id);
    for (const ids of [single, bulk]) {
      for (const [i, id] of ids.entries()) expect((await queue.getJob('main', id))?.data).toEqual(payloads[i]);
    }
  });

  it('adds many jobs in one call, in order, all or none', async () => {
    await queue.pause('main');
    await queue.pause('other');
    const added = await queue.addBulk(
      Array.from({ length: 50 }, (_, i) => ({ queue: i % 2 ? 'main' : 'other', name: 'record', data: { i }, options: { priority: 0 } })),
    );
    expect(added.every((job) => job.outcome === 'created')).toBe(true);
    const ids = added.map((job) => job.id);
    expect(ids).toHaveLength(50);
    // Ids are unique within a queue.
    expect(new Set(ids.map((id, i) => `${i % 2 ? 'main' : 'other'}/${id}`)).size).toBe(50);
    expect((await queue.getJob('other', ids[0]!))?.data).toEqual({ i: 0 });
    expect((await queue.getJob('main', ids[49]!))?.data).toEqual({ i: 49 });
    await expect(queue.addBulk([{ queue: 'main', name: 'record', data: 1 }, { queue: 'main', name: 'record', data: 2n }])).rejects.toThrow();
    expect((await queue.getCounts('main')).waiting).toBe(25);
    expect(await queue.addBulk([])).toEqual([]);
  });

  it('never runs more jobs of a queue at once than the worker concurrency', async () => {
    const ids = (await queue.addBulk(Array.from({ length: 12 }, () => ({ queue: 'busy', name: 'work', data: { ms: 60 } })))).map((job) => job.id);
    await waitFor('all work to finish', () => app.probe.finished.length === 12, DEADLINE);
    expect(new Set(app.probe.runs.map((run) => run.id))).toEqual(new Set(ids));
    expect(app.probe.runs).toHaveLength(12);
    // The handler says concurrency 3: reached, never passed.
    expect(app.probe.maxActive.get('busy')).toBe(3);
  });

  it('pauses and resumes a queue; paused jobs wait, other queues keep running', async () => {
    await queue.pause('main');
    const { id: paused } = await queue.add('main', 'record', 'paused');
    const { id: elsewhere } = await queue.add('other', 'record', 'elsewhere');
    await waitFor('the other queue to run', () => app.probe.runsOf('other', elsewhere).length === 1, DEADLINE);
    // Not a fixed wait: the paused queue's worker has since looked for jobs twice, and would have
    // taken the paused job then had the pause not held.
    await workerLookedTwice('main');
    expect(app.probe.runsOf('main', paused)).toHaveLength(0);
    expect(await storedState('main', paused)).toBe('waiting');
    expect((await queue.getJob('main', paused))?.state).toBe('waiting');
    await queue.resume('main');
    await waitFor('the resumed job to run', () => app.probe.runsOf('main', paused).length === 1, DEADLINE);
  });

  it('counts jobs per state', async () => {
    expect(await queue.getCounts('held')).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0 });
    const { id: done } = await queue.add('held', 'hold', 'done', { removeOnComplete: false });
    const { id: running } = await queue.add('held', 'hold', 'running');
    // No handler has this name in 'held': the attempt fails with an error naming it.
    const { id: orphan } = await queue.add('held', 'no-such-job', {}, { attempts: 1 });
    await finished(orphan, 'held', 'failed');
    expect((await queue.getJob('held', orphan))?.error?.message).toMatch(/no-such-job/);
    await waitFor('both held jobs to start', () => app.probe.runsOf('held', done).length === 1 && app.probe.runsOf('held', running).length === 1, DEADLINE);
    await queue.pause('held');
    await queue.add('held', 'hold', 'waiting 1');
    await queue.add('held', 'hold', 'waiting 2');
    await queue.add('held', 'hold', 'later', { delay: 60_000 });
    expect(await queue.getCounts('held')).toEqual({ waiting: 2, delayed: 1, active: 2, completed: 0, failed: 1, cancelled: 0 });
    app.probe.release();
    await finished(done, 'held', 'completed');
    await waitFor('the counts to settle', async () => (await queue.getCounts('held')).active === 0, DEADLINE);
    expect(await queue.getCounts('held')).toEqual({ waiting: 2, delayed: 1, active: 0, completed: 1, failed: 1, cancelled: 0 });
  });

  it('removes a waiting job, and refuses to remove a running one', async () => {
    await queue.pause('main');
    const { id: waiting } = await queue.add('main', 'record', 'w');
    expect(await queue.remove('main', waiting)).toBe(true);
    expect(await queue.getJob('main', waiting)).toBeUndefined();
    expect(await queue.remove('main', waiting)).toBe(false);
    const { id: running } = await queue.add('held', 'hold', 'r');
    await waitFor('the held job to start', () => app.probe.runsOf('held', running).length === 1, DEADLINE);
    expect(await queue.remove('held', running)).toBe(false);
    expect((await queue.getJob('held', running))?.state).toBe('active');
  });

  it('cancels waiting and delayed jobs at once: they never run, and are kept, counted and listed as cancelled', async () => {
    await queue.pause('main');
    const { id: waiting } = await queue.add('main', 'record', 'w', { removeOnComplete: false });
    const { id: delayed } = await queue.add('main', 'record', 'd', { delay: 60_000, jobId: 'cancel-me-later' });
    const { id: dropped } = await queue.add('main', 'record', 'x', { removeOnFail: true });
    expect(await queue.cancel('main', waiting)).toBe('cancelled');
    expect(await queue.cancel('main', delayed)).toBe('cancelled');
    // Retention that keeps no failed jobs keeps no cancelled ones either.
    expect(await queue.cancel('main', dropped)).toBe('cancelled');
    expect(await queue.getJob('main', dropped)).toBeUndefined();
    const job = await queue.getJob('main', waiting);
    expect(job).toMatchObject({ id: waiting, state: 'cancelled', data: 'w' });
    expect(job?.finishedAt).toBeInstanceOf(Date);
    // A finished job is left as it is; an unknown one is missing.
    expect(await queue.cancel('main', waiting)).toBe('finished');
    expect(await queue.cancel('main', 'no-such-job')).toBe('missing');
    expect(await queue.getCounts('main')).toMatchObject({ waiting: 0, delayed: 0, cancelled: 2 });
    const page = await queue.getJobs('main', { state: 'cancelled', limit: 1 });
    expect(page.jobs.map((j) => j.id)).toEqual([delayed]);
    expect((await queue.getJobs('main', { state: 'cancelled', cursor: page.next! })).jobs.map((j) => j.id)).toEqual([waiting]);
    // A cancelled job is not a failed one: retry leaves it; remove deletes it.
    expect(await queue.retry('main', waiting)).toBe(false);
    await queue.resume('main');
    const { id: after } = await queue.add('main', 'record', 'after', { removeOnComplete: false });
    await finished(after, 'main', 'completed');
    expect(app.probe.runsOf('main', waiting)).toHaveLength(0);
    expect(await queue.remove('main', delayed)).toBe(true);
    expect(await queue.getJob('main', delayed)).toBeUndefined();
  });

  it('frees the debounce or throttle key of a cancelled job for the next add', async () => {
    const throttled = await queue.add('main', 'record', { n: 1 }, { throttle: { key: 'cancel-t', for: 60_000 } });
    const debounced = await queue.add('main', 'record', { n: 1 }, { debounce: { key: 'cancel-d', delay: 60_000 } });
    expect(await queue.cancel('main', throttled.id)).toBe('cancelled');
    expect(await queue.cancel('main', debounced.id)).toBe('cancelled');
    expect((await queue.add('main', 'record', { n: 2 }, { throttle: { key: 'cancel-t', for: 60_000 } })).outcome).toBe('created');
    expect((await queue.add('main', 'record', { n: 2 }, { debounce: { key: 'cancel-d', delay: 60_000 } })).outcome).toBe('created');
  });

  it('cancels a running job: its signal aborts with JobCancelledError and it ends cancelled, not retried', async () => {
    const { id } = await queue.add('held', 'cancellable', 'c');
    await waitFor('the job to start', () => app.probe.runsOf('held', id).length === 1, DEADLINE);
    expect(await queue.cancel('held', id)).toBe('cancelling');
    const job = await finished(id, 'held', 'cancelled');
    expect(job.attemptsMade).toBe(1);
    const reason = await waitFor('the signal to abort', () => app.probe.abortReasons.get(`held/${id}/1`), DEADLINE);
    expect(reason).toBeInstanceOf(JobCancelledError);
    expect(reason).toMatchObject({ queue: 'held', jobId: id });
    expect(job.error?.message).toBe(new JobCancelledError('held', id).message);
    await waitFor('the cancelled event', () => app.probe.eventsOf('held', id).some((e) => e.type === 'cancelled'), DEADLINE);
    expect(app.probe.eventsOf('held', id).find((e) => e.type === 'cancelled')).toMatchObject({ name: 'cancellable', attempt: 1 });
    expect(app.probe.eventsOf('held', id).filter((e) => e.type === 'failed' || e.type === 'retrying')).toEqual([]);
    // Its attempts to spare are not used: it is not retried.
    await workerLookedTwice('held');
    expect(app.probe.runsOf('held', id)).toHaveLength(1);
    expect((await queue.getJob('held', id))?.state).toBe('cancelled');
    expect(await queue.getCounts('held')).toMatchObject({ active: 0, cancelled: 1 });
  });

  it('keeps cancelled jobs apart from failed ones: cancelling never trims the failed jobs removeOnFail keeps', async () => {
    // No handler has this name in 'held': each fails at once, kept by removeOnFail: 2.
    for (const n of [1, 2]) await finished((await queue.add('held', 'no-such-job', { n }, { attempts: 1, removeOnFail: 2 })).id, 'held', 'failed');
    const { id } = await queue.add('held', 'cancellable', 'c', { removeOnFail: 2 });
    await waitFor('the job to start', () => app.probe.runsOf('held', id).length === 1, DEADLINE);
    expect(await queue.cancel('held', id)).toBe('cancelling');
    const job = await finished(id, 'held', 'cancelled');
    expect(job.attemptsMade).toBe(1);
    expect(await queue.getCounts('held')).toMatchObject({ failed: 2, cancelled: 1, active: 0 });
  });

  it('cancels a job running in another process, from a process without workers', async () => {
    const caller = await bootQueueApp(setup, { workers: false });
    extraApps.push(caller);
    const { id } = await caller.queue.add('held', 'cancellable', 'elsewhere');
    await waitFor('the job to start in the worker process', () => app.probe.runsOf('held', id).length === 1, DEADLINE);
    expect(await caller.queue.cancel('held', id)).toBe('cancelling');
    await waitFor('the signal to abort', () => app.probe.abortReasons.get(`held/${id}/1`) instanceof JobCancelledError, DEADLINE);
    await finished(id, 'held', 'cancelled');
    expect(caller.probe.runsOf('held', id)).toHaveLength(0);
  });

  it('reaches a running job whose cancel signal was lost: its worker finds the mark on its own', async () => {
    // A lease short enough that the Postgres worker renews it within the deadline (the renewal
    // reports the mark); a BullMQ worker polls the marks of its running jobs every second.
    const { id } = await queue.add('held', 'cancellable', 'unheard', { leaseMs: 1500 });
    await waitFor('the job to start', () => app.probe.runsOf('held', id).length === 1, DEADLINE);
    await markCancelledWithoutSignal('held', id);
    await finished(id, 'held', 'cancelled');
    expect(app.probe.abortReasons.get(`held/${id}/1`)).toBeInstanceOf(JobCancelledError);
    expect(app.probe.runsOf('held', id)).toHaveLength(1);
  });

  it('ends a cancelled running job at once even when its handler ignores the signal', async () => {
    const { id } = await queue.add('timed', 'stubborn', { ms: 2500 });
    await waitFor('the job to start', () => app.probe.runsOf('timed', id).length === 1, DEADLINE);
    const cancelledAt = Date.now();
    expect(await queue.cancel('timed', id)).toBe('cancelling');
    await finished(id, 'timed', 'cancelled');
    // Ended while the handler still ran, and its late return changes nothing.
    expect(app.probe.finished).not.toContain(`timed/${id}`);
    expect(Date.now() - cancelledAt).toBeLessThan(2500);
    await waitFor('the handler to return', () => app.probe.finished.includes(`timed/${id}`), DEADLINE);
    expect((await queue.getJob('timed', id))?.state).toBe('cancelled');
  });

  /** The most runs of one key that overlapped at any instant, per key, from start/end records. */
  function mostAtOnce(runs: ReadonlyArray<{ key: string; start: number; end: number }>): Map<string, number> {
    const most = new Map<string, number>();
    for (const run of runs) {
      // The overlap is largest at some run's start: count the runs of its key in progress then.
      const overlapping = runs.filter((other) => other.key === run.key && other.start <= run.start && other.end > run.start).length;
      most.set(run.key, Math.max(most.get(run.key) ?? 0, overlapping));
    }
    return most;
  }

  it('runs at most the limit of jobs of one concurrency key at once across processes, other keys flowing meanwhile', async () => {
    const second = await bootQueueApp(setup);
    extraApps.push(second);
    const hot = Array.from({ length: 12 }, (_, i) => ({ queue: 'keyed', name: 'keyed', data: { account: 'hot', i } }));
    const cold = ['a', 'b', 'c'].flatMap((account) => [0, 1].map((i) => ({ queue: 'keyed', name: 'keyed', data: { account, i } })));
    const added = await queue.addBulk([...hot, ...cold]);
    // A key given at add counts under that key, whatever the data says.
    const { id: moved } = await queue.add('keyed', 'keyed', { account: 'elsewhere' }, { concurrencyKey: 'hot' });
    const ids = [...added.map((job) => job.id), moved];
    const runs = () => [...app.probe.keyedRuns, ...second.probe.keyedRuns];
    await waitFor('every keyed job to run', () => ids.every((id) => runs().some((run) => run.id === id)), DEADLINE);
    expect(runs()).toHaveLength(ids.length);
    const most = mostAtOnce(runs().map((run) => ({ ...run, key: run.id === moved ? 'hot' : run.key })));
    expect(Math.max(...most.values())).toBeLessThanOrEqual(2);
    // Both processes ran jobs, and the limit was reached: two of one key did run side by side.
    expect(app.probe.keyedRuns.length).toBeGreaterThan(0);
    expect(second.probe.keyedRuns.length).toBeGreaterThan(0);
    expect(most.get('hot')).toBe(2);
    // 13 jobs of 'hot' at 2 at a time take at least 7 rounds; each other key needs one, and gets it
    // before 'hot' is done, instead of waiting behind its backlog.
    const lastEnd = (key: string) => Math.max(...runs().filter((run) => run.key === key && run.id !== moved).map((run) => run.end));
    for (const key of ['a', 'b', 'c']) expect(lastEnd(key)).toBeLessThan(lastEnd('hot'));
    // A job held back for its key used no attempt (these have one): nothing failed or retried.
    const troubles = [...app.probe.events, ...second.probe.events].filter((e) => e.queue === 'keyed' && (e.type === 'retrying' || e.type === 'failed'));
    expect(troubles).toEqual([]);
  });

  it('runs a job with a key-less concurrency limit one at a time across processes, and refuses a key without a limit', async () => {
    const second = await bootQueueApp(setup);
    extraApps.push(second);
    const added = await queue.addBulk(Array.from({ length: 6 }, (_, i) => ({ queue: 'keyed', name: 'single', data: { account: 'x', i } })));
    const runs = () => [...app.probe.keyedRuns, ...second.probe.keyedRuns];
    await waitFor('every single job to run', () => added.every(({ id }) => runs().some((run) => run.id === id)), DEADLINE);
    expect(mostAtOnce(runs()).get('single')).toBe(1);
    await expect(queue.add('main', 'record', {}, { concurrencyKey: 'k' })).rejects.toThrow(InvalidJobOptionError);
    await expect(queue.add('keyed', 'keyed', { account: '' })).rejects.toThrow(/concurrency\.key/);
    await expect(queue.add('keyed', 'keyed', { account: 'a' }, { concurrencyLimit: 0 })).rejects.toThrow(/concurrencyLimit/);
  });

  it('runs jobs under a rate-limit policy within its budget, one budget per key, a spent budget using no attempt', async () => {
    const a = await queue.addBulk(Array.from({ length: 7 }, (_, i) => ({ queue: 'budget', name: 'budgeted', data: { account: 'a', i }, options: { removeOnComplete: false } })));
    const b = await queue.addBulk(Array.from({ length: 2 }, (_, i) => ({ queue: 'budget', name: 'budgeted', data: { account: 'b', i }, options: { removeOnComplete: false } })));
    for (const { id } of [...a, ...b]) expect(await finished(id, 'budget', 'completed')).toMatchObject({ attemptsMade: 1 });
    const startsOf = (jobs: typeof a) => jobs.map(({ id }) => app.probe.runsOf('budget', id)).map((runs) => {
      expect(runs).toHaveLength(1);
      return runs[0]!.startedAt;
    }).sort((x, y) => x - y);
    const startsA = startsOf(a);
    const startsB = startsOf(b);
    // 3 per fixed window of 1 s: the 7 jobs of 'a' need three windows, so the 7th starts about a
    // window after the 1st at least (a little less: the unit is taken just before the run, and the
    // window is on the store's clock).
    expect(startsA[6]! - startsA[0]!).toBeGreaterThanOrEqual(JOB_BUDGET_WINDOW_MS - 100);
    // 'b' has a budget of its own: it does not wait for the windows 'a' waits for (the 7th job of
    // 'a' waits for the third window at the earliest, a whole window after the first ended).
    expect(Math.max(...startsB)).toBeLessThan(startsA[2 * JOB_BUDGET_LIMIT]!);
    expect(app.probe.events.filter((e) => e.queue === 'budget' && (e.type === 'retrying' || e.type === 'failed'))).toEqual([]);
  });

  it('shares one budget between routes and jobs: together they never take more than the policy allows', async () => {
    const limiter = app.moduleRef.get(RateLimitService);
    const windowOf = (ms: number) => Math.floor(ms / JOB_BUDGET_WINDOW_MS);
    // Stamped before the first decision and after the last, so every decision falls between.
    const from = Date.now();
    const jobs = await queue.addBulk(Array.from({ length: 6 }, (_, i) => ({ queue: 'budget', name: 'budgeted', data: { account: 'shared', i } })));
    let routesAllowed = 0;
    // A route hammered under the same policy and key: the guard calls this very method, with a
    // custom key as `key:<value>` (over HTTP: test/queue/shared-budget.spec.ts).
    while (Date.now() - from < 2500) {
      if ((await limiter.consume('key:shared', JOB_BUDGET_POLICY)).allowed) routesAllowed++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const until = Date.now();
    await waitFor('every job to run', () => jobs.every(({ id }) => app.probe.runsOf('budget', id).length === 1), DEADLINE);
    // Counted while the route was hammered: a job that started by then took its unit by then.
    const jobsRun = jobs.filter(({ id }) => app.probe.runsOf('budget', id)[0]!.startedAt < until).length;
    const windows = windowOf(until) - windowOf(from) + 1;
    expect(routesAllowed).toBeGreaterThan(0);
    // Two budgets would let both take the limit in every window, twice the policy.
    expect(routesAllowed + jobsRun).toBeLessThanOrEqual(JOB_BUDGET_LIMIT * windows);
  });

  it('runs a job again later without using an attempt when its handler throws RetryLaterError, up to maxRetryLater', async () => {
    const { id: patient } = await queue.add('budget', 'later', { times: 3 });
    const done = await finished(patient, 'budget', 'completed');
    expect(done).toMatchObject({ attemptsMade: 1, result: 'done on run 4' });
    expect(app.probe.runsOf('budget', patient)).toHaveLength(4);
    // A fourth ask is past maxRetryLater (3): it fails the attempt, the job's only one.
    const { id: insistent } = await queue.add('budget', 'later', { times: 9 });
    const failed = await finished(insistent, 'budget', 'failed');
    expect(failed.error?.message).toBe('not yet (run 4)');
    expect(app.probe.runsOf('budget', insistent)).toHaveLength(4);
    expect(app.probe.eventsOf('budget', patient).filter((e) => e.type === 'retrying' || e.type === 'failed')).toEqual([]);
    // Its retry starts the count again.
    expect(await queue.retry('budget', insistent)).toBe(true);
    await waitFor('the retried job to fail again after three more deferrals', () => app.probe.runsOf('budget', insistent).length === 8, DEADLINE);
  });

  it('fails an attempt that runs past its run timeout with JobTimeoutError, aborting its signal, and retries it', async () => {
    const started = Date.now();
    const { id } = await queue.add('timed', 'patient', 'p');
    const job = await finished(id, 'timed', 'failed');
    // Two attempts (the @Job's), each ended by its 300 ms limit, not by a lease or a shutdown.
    expect(job.attemptsMade).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 300);
    expect(job.error?.message).toBe(new JobTimeoutError('timed', id, 300).message);
    expect(app.probe.runsOf('timed', id)).toHaveLength(2);
    for (const attempt of [1, 2]) {
      const reason = await waitFor(`attempt ${attempt} to see its signal abort`, () => app.probe.abortReasons.get(`timed/${id}/${attempt}`), DEADLINE);
      expect(reason).toBeInstanceOf(JobTimeoutError);
      expect(reason).toMatchObject({ queue: 'timed', jobId: id, runTimeoutMs: 300 });
    }
  });

  it('fails an attempt at its run timeout even when the handler ignores its signal; an add option sets the limit', async () => {
    const { id: timedOut } = await queue.add('timed', 'stubborn', { ms: 1500 }, { runTimeoutMs: 200 });
    const job = await finished(timedOut, 'timed', 'failed');
    // Failed at the limit, while the handler was still running.
    expect(app.probe.finished).not.toContain(`timed/${timedOut}`);
    expect(job.error?.message).toBe(new JobTimeoutError('timed', timedOut, 200).message);
    // Without a limit the same handler completes.
    const { id: unlimited } = await queue.add('timed', 'stubborn', { ms: 50 });
    expect((await finished(unlimited, 'timed', 'completed')).result).toBe('done anyway');
    await expect(queue.add('timed', 'stubborn', { ms: 1 }, { runTimeoutMs: 0 })).rejects.toThrow(InvalidJobOptionError);
  });

  it('stores the latest progress a handler reports, reports it as events, and refuses progress no store takes', async () => {
    const { id } = await queue.add('timed', 'report', { steps: [10, 55, { stage: 'upload', done: 3, of: 4 }] });
    const job = await finished(id, 'timed', 'completed');
    expect(job.progress).toEqual({ stage: 'upload', done: 3, of: 4 });
    expect(job.result).toEqual({ refused: 'InvalidJobProgressError' });
    await waitFor('three progress events', () => app.probe.eventsOf('timed', id).filter((e) => e.type === 'progress').length === 3, DEADLINE);
    const events = app.probe.eventsOf('timed', id).filter((e): e is JobProgressEvent => e.type === 'progress');
    expect(events.map((e) => e.progress)).toEqual([10, 55, { stage: 'upload', done: 3, of: 4 }]);
    expect(events[0]).toMatchObject({ queue: 'timed', jobId: id, name: 'report', attempt: 1 });
    // A job that never reported progress has none, including a reported 0 told apart from none.
    const { id: zero } = await queue.add('timed', 'report', { steps: [0] });
    expect((await finished(zero, 'timed', 'completed')).progress).toBe(0);
    const { id: none } = await queue.add('timed', 'report', { steps: [] });
    expect((await finished(none, 'timed', 'completed')).progress).toBeUndefined();
  });

  it('lists waiting jobs page by page in the order they will run, with no repeats and a last page', async () => {
    await queue.pause('main');
    const low = await queue.addBulk([1, 2, 3].map((i) => ({ queue: 'main', name: 'record', data: { i }, options: { priority: 5 } })));
    const urgent = await queue.addBulk([4, 5].map((i) => ({ queue: 'main', name: 'record', data: { i } })));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await queue.getJobs('main', { state: 'waiting', limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.jobs.length).toBeLessThanOrEqual(2);
      for (const job of page.jobs) expect(job).toMatchObject({ queue: 'main', name: 'record', state: 'waiting' });
      seen.push(...page.jobs.map((job) => job.id));
      cursor = page.next;
      pages++;
    } while (cursor !== undefined && pages < 10);
    expect(seen).toEqual([...urgent, ...low].map((added) => added.id));
    expect(pages).toBe(3);
    expect((await queue.getJobs('main', { state: 'waiting' })).jobs.map((job) => job.data)).toEqual([{ i: 4 }, { i: 5 }, { i: 1 }, { i: 2 }, { i: 3 }]);
    expect(await queue.getJobs('main', { state: 'completed' })).toEqual({ jobs: [] });
  });

  it('lists failed jobs newest first and delayed jobs by run time; refuses a bad cursor or state', async () => {
    app.probe.flakySucceedsFrom = 99;
    const failed: string[] = [];
    for (const k of [1, 2, 3]) {
      const { id } = await queue.add('retry', 'flaky', { k }, { attempts: 1 });
      await finished(id, 'retry', 'failed');
      failed.push(id);
    }
    const first = await queue.getJobs('retry', { state: 'failed', limit: 2 });
    expect(first.jobs.map((job) => job.id)).toEqual([failed[2], failed[1]]);
    expect(first.jobs[0]!.error?.message).toBe('boom on attempt 1');
    const second = await queue.getJobs('retry', { state: 'failed', limit: 2, cursor: first.next! });
    expect(second.jobs.map((job) => job.id)).toEqual([failed[0]]);
    expect(second.next).toBeUndefined();

    const { id: later } = await queue.add('other', 'record', 'later', { delay: 60_000 });
    const { id: sooner } = await queue.add('other', 'record', 'sooner', { delay: 30_000 });
    const delayed = await queue.getJobs('other', { state: 'delayed' });
    expect(delayed.jobs.map((job) => job.id)).toEqual([sooner, later]);
    expect(delayed.jobs[0]!.runAt.getTime()).toBeGreaterThan(Date.now() + 20_000);

    await expect(queue.getJobs('retry', { state: 'failed', cursor: 'not-a-cursor' })).rejects.toThrow(InvalidJobOptionError);
    // A cursor of another state is refused too.
    await expect(queue.getJobs('retry', { state: 'completed', cursor: first.next! })).rejects.toThrow(InvalidJobOptionError);
    await expect(queue.getJobs('retry', { state: 'gone' as 'failed' })).rejects.toThrow(InvalidJobOptionError);
    await expect(queue.getJobs('retry', { state: 'failed', limit: 0 })).rejects.toThrow(InvalidJobOptionError);
  });

  it('finishes running jobs on shutdown and leaves the rest to the next process, losing none', async () => {
    const ids = (
      await queue.addBulk(Array.from({ length: 10 }, (_, i) => ({ queue: 'held', name: 'hold', data: { i }, options: { removeOnComplete: false } })))
    ).map((job) => job.id);
    await waitFor('four jobs to run', () => app.probe.active.get('held') === 4, DEADLINE);
    const inFlight = app.probe.runs.map((run) => run.id);
    expect(inFlight).toHaveLength(4);
    // Shutdown waits for the running jobs. They are released the moment Ballast has told its
    // workers to stop (onModuleDestroy has called close() on each), not after a guessed delay: from
    // then on the worker must not start more.
    const workers = app.moduleRef.get(QueueWorkers);
    const stopWorkers = workers.onModuleDestroy.bind(workers);
    jest.spyOn(workers, 'onModuleDestroy').mockImplementation(() => {
      const drained = stopWorkers();
      app.probe.release();
      return drained;
    });
    await app.close();
    expect(app.probe.finished.sort()).toEqual(inFlight.map((id) => `held/${id}`).sort());
    for (const id of inFlight) expect((await peek(setup, 'held', id))?.state).toBe('completed');

    const next = await bootQueueApp(setup);
    extraApps.push(next);
    next.probe.release();
    queue = next.queue;
    for (const id of ids) await finished(id, 'held', 'completed');
    const ranTwice = ids.filter((id) => app.probe.runsOf('held', id).length + next.probe.runsOf('held', id).length !== 1);
    expect(ranTwice).toEqual([]);
    app = next;
    extraApps.pop();
  });

  it('hands jobs still running after the grace period back to the queue at once', async () => {
    await app.close();
    app = await bootQueueApp(setup, { shutdownTimeoutMs: 300 });
    queue = app.queue;
    const { id } = await queue.add('held', 'hold', 'long', { removeOnComplete: false, leaseMs: 60_000 });
    await waitFor('the job to start', () => app.probe.runsOf('held', id).length === 1, DEADLINE);
    await app.close();
    // Back to waiting now, not when its 60 s lease would have run out.
    const after = await peek(setup, 'held', id);
    expect(after?.state).toBe('waiting');
    const next = await bootQueueApp(setup);
    app = next;
    queue = next.queue;
    next.probe.release();
    await finished(id, 'held', 'completed');
    expect(next.probe.runsOf('held', id)).toHaveLength(1);
  });

  if (backend === 'postgres' || backend === 'pglite') {
    it('enqueues inside the caller\'s transaction: the job exists only if it commits', async () => {
      if (backend === 'postgres') {
        const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await client.connect();
        try {
          await client.query('BEGIN');
          const { id: rolledBack } = await queue.add('main', 'record', 'rolled back', { client });
          // Not visible outside the transaction, so no worker can take it yet.
          expect(await queue.getJob('main', rolledBack)).toBeUndefined();
          await client.query('ROLLBACK');
          expect(await queue.getJob('main', rolledBack)).toBeUndefined();

          await client.query('BEGIN');
          const { id: committed } = await queue.add('main', 'record', 'committed', { client, removeOnComplete: false });
          expect(await queue.getJob('main', committed)).toBeUndefined();
          await client.query('COMMIT');
          await finished(committed, 'main', 'completed');
          expect(app.probe.runs.map((run) => run.data)).toEqual(['committed']);
        } finally {
          await client.end();
        }
      } else {
        const pglite = await sharedPglite();
        let rolledBack = '';
        await expect(
          pglite.transaction(async (tx) => {
            rolledBack = (await queue.add('main', 'record', 'rolled back', { client: tx })).id;
            throw new Error('business write failed');
          }),
        ).rejects.toThrow('business write failed');
        expect(rolledBack).not.toBe('');
        expect(await queue.getJob('main', rolledBack)).toBeUndefined();
        const committed = await pglite.transaction((tx) => queue.add('main', 'record', 'committed', { client: tx, removeOnComplete: false }));
        await finished(committed.id, 'main', 'completed');
        expect(app.probe.runs.map((run) => run.data)).toEqual(['committed']);
      }
    });

    it('enqueues a job with a new concurrency key in a transaction: a rollback takes the key with it, a later commit runs the job', async () => {
      const options = { concurrencyKey: 'tx-only-key', concurrencyLimit: 1 };
      const ran = (id: string) => app.probe.keyedRuns.some((run) => run.id === id);
      if (backend === 'postgres') {
        const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await client.connect();
        try {
          await client.query('BEGIN');
          await queue.add('keyed', 'keyed', { account: 'x' }, { client, ...options });
          await client.query('ROLLBACK');
          await client.query('BEGIN');
          const { id } = await queue.add('keyed', 'keyed', { account: 'x' }, { client, ...options });
          await client.query('COMMIT');
          await waitFor('the committed keyed job to run', () => ran(id), DEADLINE);
        } finally {
          await client.end();
        }
      } else {
        const pglite = await sharedPglite();
        await expect(
          pglite.transaction(async (tx) => {
            await queue.add('keyed', 'keyed', { account: 'x' }, { client: tx, ...options });
            throw new Error('business write failed');
          }),
        ).rejects.toThrow('business write failed');
        const { id } = await pglite.transaction((tx) => queue.add('keyed', 'keyed', { account: 'x' }, { client: tx, ...options }));
        await waitFor('the committed keyed job to run', () => ran(id), DEADLINE);
      }
    });
  } else {
    it('refuses transactional enqueue with a typed error, enqueueing nothing', async () => {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      try {
        const error = await queue.add('main', 'record', 'x', { client }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnsupportedOptionError);
        expect(error).toMatchObject({ provider: backend, option: 'client' });
        await expect(queue.addBulk([{ queue: 'main', name: 'record', data: 1, options: { client } }])).rejects.toBeInstanceOf(UnsupportedOptionError);
        expect(await queue.getCounts('main')).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0 });
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  }
});

/** Reads a job through a fresh enqueue-only app, for moments when the test's own app is closed. */
async function peek(setup: BackendSetup, queueName: string, id: string): Promise<JobInfo | undefined> {
  const reader = await bootQueueApp(setup, { workers: false });
  try {
    return await reader.queue.getJob(queueName, id);
  } finally {
    await reader.close();
  }
}
