import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PRIORITY_LIMIT } from 'bullmq';
import { UnsupportedOptionError, type SqlClient } from '../../lib/index.js';
import { toBullmqJobOptions, toKeepJobs } from '../../lib/drivers/bullmq/bullmq-job-options.js';
import { newBullmqJobId } from '../../lib/drivers/bullmq/bullmq-job-id.js';
import { MAX_PRIORITY } from '../../lib/queue/job-options.validation.js';
import { BullmqHarness, newJob } from './bullmq-harness.js';

/**
 * The BullMQ backend without workers: enqueue, option mapping, inspection and admin calls, on a
 * real Redis. What workers do with the jobs is in bullmq-worker.spec.ts.
 */
/** RFC 9562 version 7, variant 10xx. */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('BullMQ queue backend', () => {
  let h: BullmqHarness;

  beforeEach(() => {
    h = new BullmqHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  describe('option mapping', () => {
    const now = 1_700_000_000_000;

    it('sets only what differs from BullMQ defaults, and an id of its own', () => {
      expect(toBullmqJobOptions(newJob('q', 'n'), now)).toEqual({ removeOnComplete: true, jobId: expect.stringMatching(UUID_V7) });
      expect(toBullmqJobOptions(newJob('q', 'n', {}, { jobId: 'order-42' }), now).jobId).toBe('order-42');
    });

    it('draws ids that are time-ordered UUIDv7s, never whole numbers, distinct across 100,000 draws', () => {
      const ids = Array.from({ length: 100_000 }, (_, i) => newBullmqJobId(now + Math.floor(i / 1000)));
      expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
      // The first 48 bits are the time: ids of later milliseconds sort after earlier ones.
      expect(newBullmqJobId(now).slice(0, 13)).toBe(newBullmqJobId(now).slice(0, 13));
      expect(newBullmqJobId(now + 1) > newBullmqJobId(now)).toBe(true);
      expect(parseInt(newBullmqJobId(now).replaceAll('-', '').slice(0, 12), 16)).toBe(now);
    });

    it('turns runAt into a delay from now, and a past runAt into none', () => {
      expect(toBullmqJobOptions(newJob('q', 'n', {}, { runAt: now + 1500 }), now).delay).toBe(1500);
      expect(toBullmqJobOptions(newJob('q', 'n', {}, { runAt: now - 10 }), now).delay).toBeUndefined();
    });

    it('keeps priorities as they are, the highest Ballast value sharing BullMQ last rank', () => {
      expect(toBullmqJobOptions(newJob('q', 'n', {}, { priority: 7 }), now).priority).toBe(7);
      expect(toBullmqJobOptions(newJob('q', 'n', {}, { priority: MAX_PRIORITY }), now).priority).toBe(PRIORITY_LIMIT);
    });

    it('passes attempts and backoff with jitter through', () => {
      const options = toBullmqJobOptions(
        newJob('q', 'n', {}, { attempts: 4, backoff: { type: 'fixed', delay: 250, jitter: 0.5 } }),
        now,
      );
      expect(options).toMatchObject({ attempts: 4, backoff: { type: 'fixed', delay: 250, jitter: 0.5 } });
    });

    it('converts retention ages from ms to whole seconds, rounding up', () => {
      expect(toKeepJobs(true)).toBe(true);
      expect(toKeepJobs(false)).toBe(false);
      expect(toKeepJobs(10)).toBe(10);
      expect(toKeepJobs({ age: 1500 })).toEqual({ age: 2 });
      expect(toKeepJobs({ age: 60_000, count: 5 })).toEqual({ age: 60, count: 5 });
    });
  });

  it('adds one job and reports it waiting with its data and options', async () => {
    const before = Date.now();
    const [{ id }] = await h.backend.add([newJob('mail', 'welcome', { to: 'a@b.c' }, { attempts: 3 })]);
    const info = await h.backend.getJob('mail', id!);
    expect(info).toMatchObject({
      id,
      queue: 'mail',
      name: 'welcome',
      data: { to: 'a@b.c' },
      state: 'waiting',
      priority: 0,
      attemptsMade: 0,
      maxAttempts: 3,
    });
    expect(info!.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(info!.runAt.getTime()).toBe(info!.createdAt.getTime());
    expect(info!.finishedAt).toBeUndefined();
    expect(info!.error).toBeUndefined();
  });

  it('reports a delayed job with its run time, and a prioritized one as waiting', async () => {
    const runAt = Date.now() + 60_000;
    const [delayed, prioritized] = (
      await h.backend.add([
        newJob('q', 'later', {}, { runAt }),
        newJob('q', 'urgent-ish', {}, { priority: 3 }),
      ])
    ).map((a) => a.id);
    const delayedInfo = await h.backend.getJob('q', delayed!);
    expect(delayedInfo!.state).toBe('delayed');
    // BullMQ counts the delay from its own timestamp, taken a moment after ours.
    expect(Math.abs(delayedInfo!.runAt.getTime() - runAt)).toBeLessThan(50);
    expect(await h.backend.getJob('q', prioritized!)).toMatchObject({ state: 'waiting', priority: 3 });
  });

  it('returns undefined for an unknown id', async () => {
    expect(await h.backend.getJob('q', 'no-such-job')).toBeUndefined();
  });

  it('adds in bulk across queues, returning ids in input order', async () => {
    const jobs = [
      newJob('a', 'n', { i: 0 }),
      newJob('b', 'n', { i: 1 }),
      newJob('a', 'n', { i: 2 }),
      newJob('b', 'n', { i: 3 }, { jobId: 'custom-3' }),
      newJob('a', 'n', { i: 4 }),
    ];
    const ids = (await h.backend.add(jobs)).map((a) => a.id);
    expect(ids).toHaveLength(5);
    expect(ids[3]).toBe('custom-3');
    for (const [i, id] of ids.entries()) {
      const info = await h.backend.getJob(jobs[i]!.queue, id);
      expect(info?.data).toEqual({ i });
    }
    expect((await h.backend.getCounts('a')).waiting).toBe(3);
    expect((await h.backend.getCounts('b')).waiting).toBe(2);
  });

  it('is idempotent by jobId: the existing job is returned and nothing is created', async () => {
    const [{ id: first, outcome: firstOutcome }] = await h.backend.add([newJob('q', 'n', { v: 1 }, { jobId: 'order-42' })]);
    const [{ id: again, outcome: againOutcome }] = await h.backend.add([newJob('q', 'n', { v: 2 }, { jobId: 'order-42' })]);
    const inBulk = (
      await h.backend.add([
        newJob('q', 'n', { v: 3 }, { jobId: 'order-42' }),
        newJob('q', 'n', { v: 4 }, { jobId: 'order-43' }),
        newJob('q', 'n', { v: 5 }, { jobId: 'order-43' }),
      ])
    ).map((a) => a.id);
    expect([firstOutcome, againOutcome]).toEqual(['created', 'deduplicated']);
    expect([first, again, ...inBulk]).toEqual(['order-42', 'order-42', 'order-42', 'order-43', 'order-43']);
    expect((await h.backend.getJob('q', 'order-42'))!.data).toEqual({ v: 1 });
    expect((await h.backend.getJob('q', 'order-43'))!.data).toEqual({ v: 4 });
    expect((await h.backend.getCounts('q')).waiting).toBe(2);
  });

  it('counts jobs per state', async () => {
    await h.backend.add([
      newJob('q', 'n'),
      newJob('q', 'n', {}, { priority: 1 }),
      newJob('q', 'n', {}, { runAt: Date.now() + 60_000 }),
    ]);
    expect(await h.backend.getCounts('q')).toEqual({ waiting: 2, delayed: 1, active: 0, completed: 0, failed: 0, cancelled: 0 });
    expect(await h.backend.getCounts('empty')).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0 });
  });

  it('removes a job that is not running, and says whether there was one', async () => {
    const [{ id }] = await h.backend.add([newJob('q', 'n')]);
    expect(await h.backend.remove('q', id!)).toBe(true);
    expect(await h.backend.getJob('q', id!)).toBeUndefined();
    expect(await h.backend.remove('q', id!)).toBe(false);
    expect(await h.backend.remove('q', 'never-was')).toBe(false);
  });

  it('does not retry a job that is not failed', async () => {
    const [{ id }] = await h.backend.add([newJob('q', 'n')]);
    expect(await h.backend.retry('q', id!)).toBe(false);
    expect(await h.backend.retry('q', 'never-was')).toBe(false);
    expect(await h.backend.retryAllFailed('q')).toBe(0);
  });

  it('keeps its keys under the module key prefix', async () => {
    await h.backend.add([newJob('mail', 'n')]);
    const keys = await h.redis.keys(`${h.keyPrefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((key) => key.startsWith(`${h.keyPrefix}queue:mail:`))).toBe(true);
  });

  it('leaves the shared client open when it closes', async () => {
    await h.backend.add([newJob('q', 'n')]);
    await h.backend.close();
    expect(await h.redis.ping()).toBe('PONG');
  });
});
