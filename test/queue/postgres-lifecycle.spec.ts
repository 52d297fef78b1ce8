import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { JobAbortedError } from '../../lib/errors/job-aborted.error.js';
import { JobLeaseExpiredError } from '../../lib/errors/job-lease-expired.error.js';
import { retryDelay } from '../../lib/queue/runner/retry-delay.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { waitFor } from '../support/wait-for.js';
import { aborted, claimArgs, gate, newJob, openHarness, recorder, recordingSpec, type PostgresFlavor, type QueueHarness } from './postgres-queue.harness.js';

afterAll(closeSharedPglite);

/** Slack between the database's clock (leases are `now()` + timeout) and the test's. */
const CLOCK_SLACK_MS = 50;

/**
 * Watches what the backend sends through `h.db.queryPrepared` (claims, renewals, reaper runs,
 * outcomes), so a test waits on the runs that would have caught a fault instead of a guessed
 * duration. `since(t, text, queue?)` counts the finished statements of `text` (for `queue`, its
 * first parameter) sent at or after `t`. `before` runs ahead of each statement and may hold it up.
 */
function watchStatements(h: QueueHarness, before?: (text: string) => Promise<void> | void) {
  const real = h.db.queryPrepared.bind(h.db);
  const done: Array<{ text: string; queue: unknown; sentAt: number }> = [];
  jest.spyOn(h.db, 'queryPrepared').mockImplementation(async (text, params) => {
    await before?.(text);
    const sentAt = Date.now();
    const result = await real(text, params);
    done.push({ text, queue: params?.[0], sentAt });
    return result;
  });
  return {
    since: (t: number, text: string, queue?: string) =>
      done.filter((s) => s.text === text && s.sentAt >= t && (queue === undefined || s.queue === queue)).length,
  };
}

describe('retry backoff', () => {
  it('computes fixed and exponential delays, with jitter taking up to its fraction off', () => {
    expect(retryDelay({ type: 'fixed', delay: 500, jitter: 0 }, 1)).toBe(500);
    expect(retryDelay({ type: 'fixed', delay: 500, jitter: 0 }, 4)).toBe(500);
    expect([1, 2, 3, 4].map((a) => retryDelay({ type: 'exponential', delay: 100, jitter: 0 }, a))).toEqual([100, 200, 400, 800]);
    expect(retryDelay({ type: 'exponential', delay: 1000, jitter: 0.5 }, 2, () => 0)).toBe(2000);
    expect(retryDelay({ type: 'exponential', delay: 1000, jitter: 0.5 }, 2, () => 0.999999)).toBe(1000);
    expect(retryDelay({ type: 'exponential', delay: 1000, jitter: 0 }, 60)).toBe(2_147_483_647);
  });
});

/**
 * What happens to a job after it is claimed, on a server and on PGlite: leases (heartbeat, the
 * reaper, the token check), retries with backoff, dead letters and their retry, retention pruning,
 * removal, and graceful shutdown handing jobs back.
 */
describe.each(['postgres', 'pglite'] as const)('Postgres queue job lifecycle on %s', (flavor: PostgresFlavor) => {
  let h: QueueHarness;

  afterEach(async () => {
    jest.restoreAllMocks();
    await h?.close();
  });

  describe('leases', () => {
    it('renews the lease of a job that runs longer than its timeout, so it runs once and is not reaped', async () => {
      h = await openHarness(flavor, 'pl_heartbeat');
      const statements = watchStatements(h);
      const rec = recorder();
      let leaseSeenMidway: number | null = null;
      await h.start(
        recordingSpec(rec, async () => {
          // Runs on, not for a guessed time, until the reaper has looked three times since its first
          // lease (claimed before this started) ran out, and the lease was renewed three times: a
          // lease that was not kept would have been reaped by then.
          const firstLeaseOver = Date.now() + 900 + CLOCK_SLACK_MS;
          const caughtUp = () => statements.since(firstLeaseOver, h.sql.reap) >= 3 && statements.since(0, h.sql.renew) >= 3;
          await waitFor('three reaper runs past the first lease, and three renewals', caughtUp, 10_000);
          leaseSeenMidway = (await h.rows())[0]!.lease_left_ms;
        }),
      );
      // Renewed every ~300 ms; a renewal may come up to 600 ms late on a busy machine and still hold.
      await h.backend.add([newJob({}, { leaseMs: 900 })]);
      const settled = () => rec.eventsOf('completed').length + rec.eventsOf('stalled').length > 0;
      await waitFor('the long job to complete (or be reaped)', settled, 15_000);
      expect(rec.eventsOf('stalled')).toEqual([]);
      await waitFor('the long job to complete', () => rec.eventsOf('completed').length === 1);
      expect(rec.runs.size).toBe(1);
      expect([...rec.runs.values()]).toEqual([1]);
      expect(rec.eventsOf('stalled')).toEqual([]);
      // Past its first lease, with the reaper running, the lease was still in the future: it was renewed.
      expect(leaseSeenMidway).toBeGreaterThan(0);
    });

    it('keeps the lease of a finished job until its outcome is written, so a slow write never runs it twice', async () => {
      h = await openHarness(flavor, 'pl_slowwrite');
      // The database takes the completion only once the reaper has looked three times after the
      // job's lease, as it stood when the write was sent, would have run out; everything else runs as usual.
      let delayed = 0;
      const statements = watchStatements(h, async (text) => {
        if (text !== h.sql.complete) return;
        delayed += 1;
        const leaseOver = Date.now() + 300 + CLOCK_SLACK_MS;
        await waitFor('three reaper runs past the lease', () => statements.since(leaseOver, h.sql.reap) >= 3, 10_000);
      });
      const rec = recorder();
      await h.start(recordingSpec(rec));
      const [{ id }] = await h.backend.add([newJob({}, { leaseMs: 300, removeOnComplete: false })]);
      const settled = () => rec.eventsOf('completed').length + rec.eventsOf('stalled').length > 0;
      await waitFor('the slow completion to be written (or the job reaped)', settled, 15_000);
      expect(rec.eventsOf('stalled')).toEqual([]);
      await waitFor('the slow completion to be written', () => rec.eventsOf('completed').length === 1);
      expect(delayed).toBeGreaterThan(0);
      expect(rec.runs.get(id!)).toBe(1);
      expect(rec.eventsOf('stalled')).toEqual([]);
      expect((await h.backend.getJob('q', id!))!.state).toBe('completed');
    });

    it('returns a job whose lease expired (its worker died) to the queue without using its attempt, and reports it stalled', async () => {
      h = await openHarness(flavor, 'pl_reap');
      // One attempt only: a crash must not use it up.
      const [{ id }] = await h.backend.add([newJob({ n: 1 }, { attempts: 1, leaseMs: 200 })]);
      // A worker that claims and then dies: nothing renews or completes.
      const { rows } = await h.db.query<{ token: string }>(h.sql.claim, claimArgs('q', 10));
      expect(rows).toHaveLength(1);
      const rec = recorder();
      const seen: number[] = [];
      await h.start(recordingSpec(rec, (_data, context) => void seen.push(context.attempt)));
      await waitFor('the reaped job to run on the live worker', () => rec.eventsOf('completed').length === 1, 5000);
      expect(rec.eventsOf('stalled')).toEqual([{ type: 'stalled', queue: 'q', jobId: id, name: 'work' }]);
      expect(rec.eventsOf('failed')).toEqual([]);
      // The stalled claim gave its attempt back: the live worker ran attempt 1 again.
      expect(seen).toEqual([1]);
    });

    it('fails a stalled job past maxStalls, with the lease error, reporting stalled and failed', async () => {
      h = await openHarness(flavor, 'pl_reapfail', { maxStalls: 0 });
      const [{ id }] = await h.backend.add([newJob({}, { attempts: 3, leaseMs: 150 })]);
      await h.db.query(h.sql.claim, claimArgs('q', 10));
      const rec = recorder();
      await h.start(recordingSpec(rec));
      await waitFor('the stalled job to be failed', () => rec.eventsOf('failed').length === 1, 5000);
      const failed = rec.eventsOf('failed')[0]!;
      expect(failed).toMatchObject({ type: 'failed', jobId: id, attempt: 1 });
      expect((failed as { error: Error }).error).toBeInstanceOf(JobLeaseExpiredError);
      expect(rec.eventsOf('stalled')).toHaveLength(1);
      const info = await h.backend.getJob('q', id!);
      expect(info).toMatchObject({ state: 'failed', attemptsMade: 1 });
      expect(info!.error!.message).toBe(JobLeaseExpiredError.describe(0));
      expect(info!.error!.message).toMatch(/^job stalled 1 time \(queue\.maxStalls is 0\)/);
      expect(rec.runs.size).toBe(0);
    });

    it('counts stalls apart from attempts: back to waiting up to maxStalls, then failed; retry() resets both', async () => {
      h = await openHarness(flavor, 'pl_stalls', { maxStalls: 1 });
      const [{ id }] = await h.backend.add([newJob({}, { attempts: 5, leaseMs: 100 })]);
      const stalls = async () => (await h.db.query<{ stalls: number }>(`SELECT stalls FROM ${h.table}`)).rows[0]!.stalls;
      // A worker claims and dies, twice; a reaper takes the job back once its lease is over.
      await h.db.query(h.sql.claim, claimArgs('q', 10));
      await waitFor('the first stall to be reaped', async () => (await h.reap('q', 1)) === 1, 5000);
      expect((await h.rows())[0]).toMatchObject({ state: 'waiting', attempts_made: 0 });
      expect(await stalls()).toBe(1);
      await h.db.query(h.sql.claim, claimArgs('q', 10));
      await waitFor('the second stall to be reaped', async () => (await h.reap('q', 1)) === 1, 5000);
      expect((await h.rows())[0]).toMatchObject({ state: 'failed', attempts_made: 1 });
      expect(await stalls()).toBe(2);
      expect(await h.backend.retry('q', id!)).toBe(true);
      expect((await h.rows())[0]).toMatchObject({ state: 'waiting', attempts_made: 0 });
      expect(await stalls()).toBe(0);
    });

    it('counts a stall only for jobs whose handler started: a dead worker\'s buffered jobs go back with nothing counted', async () => {
      h = await openHarness(flavor, 'pl_buffered', { maxStalls: 0 });
      await h.backend.add(Array.from({ length: 6 }, (_, i) => newJob({ i }, { leaseMs: 100 })));
      // A worker claims six and starts two at once; a third starts from its buffer and runs long
      // enough for a lease renewal, which tells the store; then the worker dies with three never started.
      const claimed = (await h.db.query<{ id: string; token: string }>(h.sql.claim, claimArgs('q', 6, 2))).rows;
      expect(claimed).toHaveLength(6);
      await h.db.query(h.sql.renew, [claimed.slice(2).map((j) => j.id), claimed.slice(2).map((j) => j.token), [true, false, false, false]]);
      await h.db.query(`UPDATE ${h.table} SET locked_until = now() - interval '1 second'`);
      await waitFor('every lease to be reaped', async () => (await h.reap('q', 0)) > 0 && (await h.rows()).every((row) => row.state !== 'active'), 5000);
      const { rows } = await h.db.query<{ id: string; state: string; stalls: number; attempts_made: number }>(
        `SELECT id::text AS id, state, stalls, attempts_made FROM ${h.table} ORDER BY id`,
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      // maxStalls 0: the three that ran fail at their first stall; the three that never ran wait again, untouched.
      for (const job of claimed.slice(0, 3)) expect(byId.get(job.id)).toMatchObject({ state: 'failed', stalls: 1 });
      for (const job of claimed.slice(3)) expect(byId.get(job.id)).toMatchObject({ state: 'waiting', stalls: 0, attempts_made: 0 });
    });

    it('applies no outcome from a worker whose lease was lost (token check)', async () => {
      h = await openHarness(flavor, 'pl_token');
      const [{ id }] = await h.backend.add([newJob({}, { attempts: 3, removeOnComplete: false, removeOnFail: false })]);
      const first = (await h.db.query<{ id: string; token: string }>(h.sql.claim, claimArgs('q', 1))).rows[0]!;
      // The lease runs out and another worker claims the job.
      await h.db.query(`UPDATE ${h.schema}.queue_jobs SET locked_until = now() - interval '1 second'`);
      expect(await h.reap('q', 1)).toBe(1);
      const second = (await h.db.query<{ id: string; token: string; attempts_made: number }>(h.sql.claim, claimArgs('q', 1))).rows[0]!;
      // The stall gave the first claim's attempt back.
      expect(second.attempts_made).toBe(1);
      expect(second.token).not.toBe(first.token);
      // The first worker finishes late: its completion, failure, renewal and hand-back are all refused.
      expect((await h.db.query(h.sql.complete, [[first.id], [first.token], ['"late"']])).rows).toEqual([]);
      const failed = await h.db.query<{ retried: string[]; failed: string[] }>(h.sql.fail, [[first.id], [first.token], [null], ['late'], [null], 'c', [null]]);
      expect(failed.rows[0]).toMatchObject({ retried: [], failed: [] });
      expect((await h.db.query(h.sql.renew, [[first.id], [first.token], [true]])).rows).toEqual([]);
      expect((await h.db.query<{ released: number }>(h.sql.release, [[first.id], [first.token], 'c'])).rows[0]!.released).toBe(0);
      expect((await h.rows())[0]).toMatchObject({ state: 'active', token: second.token, attempts_made: 1, result: null });
      // The current holder's completion applies.
      expect((await h.db.query<{ id: string }>(h.sql.complete, [[second.id], [second.token], ['"done"']])).rows).toEqual([{ id: second.id }]);
      expect(await h.backend.getJob('q', id!)).toMatchObject({ state: 'completed', result: 'done' });
    });

    it('aborts a running job whose lease was taken over and records nothing it does afterwards', async () => {
      h = await openHarness(flavor, 'pl_lost');
      const rec = recorder();
      const reasons: unknown[] = [];
      const finish = gate();
      const worker = await h.start(
        recordingSpec(rec, async (_data, context) => {
          reasons.push(await aborted(context.signal));
          await finish.promise;
          return 'should not be stored';
        }),
      );
      const [{ id }] = await h.backend.add([newJob({}, { leaseMs: 300, removeOnComplete: false })]);
      await waitFor('the job to start', () => rec.order.length === 1);
      // Another worker holds the job now (as after the reaper handed it on), with a lease of its own.
      const thief = '00000000-0000-4000-8000-000000000001';
      await h.db.query(`UPDATE ${h.schema}.queue_jobs SET lock_token = $1, locked_until = now() + interval '1 minute'`, [thief]);
      await waitFor('the heartbeat to notice and abort the handler', () => reasons.length === 1, 5000);
      expect(reasons[0]).toBeInstanceOf(JobAbortedError);
      expect((reasons[0] as JobAbortedError).why).toBe('lease-lost');
      finish.open();
      await waitFor('the handler to return', () => rec.inFlight === 0);
      // Closing drains the flusher: whatever the worker meant to write has been written by now.
      await worker.close();
      expect(rec.eventsOf('completed')).toEqual([]);
      expect((await h.backend.getJob('q', id!))!.state).toBe('active');
      expect((await h.rows())[0]).toMatchObject({ token: thief, result: null });
    });
  });

  describe('retries and dead letters', () => {
    it('retries a failing job after its backoff and completes it', async () => {
      h = await openHarness(flavor, 'pl_retry');
      const rec = recorder();
      const startedAt: number[] = [];
      await h.start(
        recordingSpec(rec, (_data, context) => {
          startedAt.push(Date.now());
          if (context.attempt < 3) throw new Error(`boom ${context.attempt}`);
          return 'third time lucky';
        }),
      );
      const [{ id }] = await h.backend.add([newJob({}, { attempts: 3, backoff: { type: 'fixed', delay: 150, jitter: 0 }, removeOnComplete: false })]);
      await waitFor('the job to complete on its third attempt', () => rec.eventsOf('completed').length === 1, 10_000);
      expect(rec.eventsOf('retrying').map((e) => [(e as { attempt: number }).attempt, (e as { error: Error }).error.message])).toEqual([
        [1, 'boom 1'],
        [2, 'boom 2'],
      ]);
      expect(startedAt[1]! - startedAt[0]!).toBeGreaterThanOrEqual(140);
      expect(startedAt[2]! - startedAt[1]!).toBeGreaterThanOrEqual(140);
      expect(await h.backend.getJob('q', id!)).toMatchObject({ state: 'completed', attemptsMade: 3, result: 'third time lucky' });
    });

    it('completes the jobs whose results share a write with one JSON cannot hold, that one with a null result', async () => {
      h = await openHarness(flavor, 'pl_badresult');
      const rec = recorder();
      const release = gate();
      // A lone surrogate: jsonb would refuse it, and one refused result must not hold back the
      // batch. The executor stores it as null (the rule of every runner); the rest complete as usual.
      await h.start(
        recordingSpec(rec, async (data) => {
          await release.promise;
          return (data as { bad?: boolean }).bad ? '😀'.slice(0, 1) : 'fine';
        }, { concurrency: 5 }),
      );
      const ids = (await h.backend.add(Array.from({ length: 5 }, (_, i) => newJob({ bad: i === 2 }, { removeOnComplete: false })))).map((a) => a.id);
      await waitFor('all five to start', () => rec.order.length === 5);
      release.open();
      await waitFor('all five to complete', () => rec.eventsOf('completed').length === 5, 10_000);
      const results = await Promise.all(ids.map(async (id) => (await h.backend.getJob('q', id))!));
      expect(results.map((job) => [job.state, job.result])).toEqual([
        ['completed', 'fine'],
        ['completed', 'fine'],
        ['completed', null],
        ['completed', 'fine'],
        ['completed', 'fine'],
      ]);
    });

    it('keeps the last error on a job waiting to retry', async () => {
      h = await openHarness(flavor, 'pl_retrywait');
      const rec = recorder();
      await h.start(recordingSpec(rec, () => Promise.reject(new TypeError('not yet'))));
      const [{ id }] = await h.backend.add([newJob({}, { attempts: 2, backoff: { type: 'fixed', delay: 60_000, jitter: 0 } })]);
      await waitFor('the retry to be scheduled', () => rec.eventsOf('retrying').length === 1);
      const retrying = rec.eventsOf('retrying')[0] as { nextRunAt: Date };
      expect(retrying.nextRunAt.getTime()).toBeGreaterThan(Date.now() + 50_000);
      const info = await h.backend.getJob('q', id!);
      expect(info).toMatchObject({ state: 'delayed', attemptsMade: 1, error: { message: 'not yet' } });
      expect(info!.error!.stack).toContain('TypeError: not yet');
      expect(info!.runAt.getTime()).toBeGreaterThan(Date.now() + 50_000);
      expect(await h.backend.getCounts('q')).toMatchObject({ delayed: 1, waiting: 0, active: 0 });
    });

    it('moves a job that ran out of attempts to failed with its error and stack, retryable with a fresh budget', async () => {
      h = await openHarness(flavor, 'pl_dead');
      const rec = recorder();
      let healthy = false;
      await h.start(
        recordingSpec(rec, (_data, context) => {
          if (!healthy) throw new Error(`downstream unavailable (attempt ${context.attempt})`);
          return 'recovered';
        }),
      );
      const [{ id }] = await h.backend.add([newJob({ to: 'a@b.c' }, { attempts: 2, removeOnComplete: false })]);
      await waitFor('the job to fail for good', () => rec.eventsOf('failed').length === 1, 5000);
      expect(rec.eventsOf('failed')[0]).toMatchObject({ type: 'failed', jobId: id, attempt: 2 });
      expect(rec.eventsOf('retrying')).toHaveLength(1);
      const dead = await h.backend.getJob('q', id!);
      expect(dead).toMatchObject({ state: 'failed', attemptsMade: 2, maxAttempts: 2, data: { to: 'a@b.c' } });
      expect(dead!.error!.message).toBe('downstream unavailable (attempt 2)');
      expect(dead!.error!.stack).toMatch(/^Error: downstream unavailable/);
      expect(dead!.finishedAt).toBeInstanceOf(Date);
      expect(await h.backend.getCounts('q')).toMatchObject({ failed: 1, waiting: 0, active: 0 });

      expect(await h.backend.retry('q', '123456')).toBe(false);
      healthy = true;
      expect(await h.backend.retry('q', id!)).toBe(true);
      await waitFor('the retried job to complete', () => rec.eventsOf('completed').length === 1, 5000);
      expect(await h.backend.getJob('q', id!)).toMatchObject({ state: 'completed', attemptsMade: 1, result: 'recovered' });
      expect((await h.backend.getJob('q', id!))!.error).toBeUndefined();
      // Only failed jobs can be retried.
      expect(await h.backend.retry('q', id!)).toBe(false);
    });

    it('retries every failed job of a queue, in batches, and only that queue', async () => {
      h = await openHarness(flavor, 'pl_retryall');
      const ids = (await h.backend.add(Array.from({ length: 1203 }, (_, i) => newJob({ i })))).map((a) => a.id);
      await h.backend.add([newJob({}, { queue: 'other' })]);
      await h.db.query(`UPDATE ${h.schema}.queue_jobs SET state = 'failed', attempts_made = 1, finished_at = now(), error_message = 'x'`);
      expect(await h.backend.retryAllFailed('q')).toBe(1203);
      expect(await h.backend.getCounts('q')).toMatchObject({ failed: 0, waiting: 1203 });
      expect((await h.backend.getJob('q', ids[7]!))!.attemptsMade).toBe(0);
      expect((await h.backend.getCounts('other')).failed).toBe(1);
      expect(await h.backend.retryAllFailed('q')).toBe(0);
    });

    it('retries only the jobs that had failed when it started, so jobs failing again meanwhile cannot keep it going', async () => {
      h = await openHarness(flavor, 'pl_retrycut');
      await h.backend.add(Array.from({ length: 1500 }, (_, i) => newJob({ i })));
      // 1200 failed before the call; 300 "fail again while it runs" (finished after its start).
      await h.db.query(`UPDATE ${h.table} SET state = 'failed', attempts_made = 1, error_message = 'x',
                          finished_at = CASE WHEN id % 5 = 0 THEN now() + interval '1 hour' ELSE now() - interval '1 second' END`);
      expect(await h.backend.retryAllFailed('q')).toBe(1200);
      expect(await h.backend.getCounts('q')).toMatchObject({ failed: 300, waiting: 1200 });
    });

    it('removes jobs that are not running', async () => {
      h = await openHarness(flavor, 'pl_remove');
      const [waiting, running] = (await h.backend.add([newJob({}, { jobId: 'w-1' }), newJob({}, { priority: -1 })])).map((a) => a.id);
      await h.db.query(h.sql.claim, claimArgs('q', 1));
      expect((await h.backend.getJob('q', running!))!.state).toBe('active');
      expect(await h.backend.remove('q', running!)).toBe(false);
      expect(await h.backend.remove('other', waiting!)).toBe(false);
      expect(await h.backend.remove('q', waiting!)).toBe(true);
      expect(await h.backend.remove('q', waiting!)).toBe(false);
      expect(await h.backend.getJob('q', waiting!)).toBeUndefined();
      // Its key is free again.
      expect(await h.backend.add([newJob({ again: true }, { jobId: 'w-1' })])).toEqual([{ id: 'w-1', outcome: 'created' }]);
      expect((await h.backend.getJob('q', 'w-1'))!.data).toEqual({ again: true });
    });
  });

  describe('retention', () => {
    const finishAll = async (count: number, spec: Parameters<typeof recordingSpec>[1] = () => undefined) => {
      const rec = recorder();
      await h.start(recordingSpec(rec, spec));
      await waitFor('every job to finish', () => rec.eventsOf('completed').length + rec.eventsOf('failed').length === count, 10_000);
      return rec;
    };

    it('deletes completed jobs at once by default, in the completion statement', async () => {
      h = await openHarness(flavor, 'pl_keepnone');
      await h.backend.add(Array.from({ length: 30 }, (_, i) => newJob({ i })));
      await finishAll(30);
      expect(await h.rows()).toEqual([]);
    });

    it('keeps the newest N finished jobs per outcome and prunes the rest', async () => {
      h = await openHarness(flavor, 'pl_keepcount');
      // Even jobs fail, odd ones complete; concurrency 1 finishes them in order.
      await h.backend.add(Array.from({ length: 12 }, (_, i) => newJob({ i }, { removeOnComplete: 3, removeOnFail: 2, name: i % 2 ? 'work' : 'bad' })));
      await h.backend.add([newJob({ kept: true }, { removeOnComplete: false, priority: 9 })]);
      const rec = recorder();
      const body = (_data: unknown, context: { name: string }) => {
        if (context.name === 'bad') throw new Error('even');
      };
      await h.start(recordingSpec(rec, body, { names: ['work', 'bad'], concurrency: 1 }));
      await waitFor('every job to finish', () => rec.eventsOf('completed').length + rec.eventsOf('failed').length === 13, 10_000);
      expect(await h.backend.getCounts('q')).toMatchObject({ completed: 7, failed: 6 });
      const pruned = await h.backend.prune();
      // A bound counts every finished job of the queue and outcome: the unbounded job (the newest,
      // it ran last) is one of the three newest completed, so 1, 3, 5, 7 go; of the failures 0..6 go.
      expect(pruned.byCount).toBe(4 + 4);
      expect(await h.backend.getCounts('q')).toMatchObject({ completed: 3, failed: 2 });
      const kept = await Promise.all((await h.rows()).map(async (r) => (await h.backend.getJob('q', r.id))!.data));
      expect(kept).toEqual(expect.arrayContaining([{ i: 9 }, { i: 11 }, { kept: true }, { i: 8 }, { i: 10 }]));
      expect((await h.backend.prune()).byCount).toBe(0);
    });

    it('prunes finished jobs past their age in bounded batches', async () => {
      h = await openHarness(flavor, 'pl_keepage', { pruneBatchSize: 10 });
      await h.backend.add(Array.from({ length: 25 }, (_, i) => newJob({ i }, { removeOnComplete: { age: 150 } })));
      await h.backend.add([newJob({}, { removeOnComplete: { age: 60_000 }, priority: 9 })]);
      await finishAll(26);
      expect((await h.backend.getCounts('q')).completed).toBe(26);
      expect((await h.backend.prune()).byAge).toBe(0);
      // Move their age deadline into the past instead of waiting 150 ms for it.
      await h.db.query(`UPDATE ${h.schema}.queue_jobs SET purge_at = purge_at - interval '1 second'`);
      expect((await h.backend.prune()).byAge).toBe(25);
      expect((await h.backend.getCounts('q')).completed).toBe(1);
    });

    it('removes a failed job at once when removeOnFail is true', async () => {
      h = await openHarness(flavor, 'pl_failremove');
      await h.backend.add([newJob({}, { removeOnFail: true }), newJob({}, { removeOnFail: false })]);
      await finishAll(2, () => {
        throw new Error('nope');
      });
      expect((await h.rows()).map((r) => r.state)).toEqual(['failed']);
    });

    it('prunes on its own timer while workers run', async () => {
      h = await openHarness(flavor, 'pl_prunetimer', { pruneIntervalMs: 100 });
      await h.backend.add(Array.from({ length: 5 }, (_, i) => newJob({ i }, { removeOnComplete: 1 })));
      await finishAll(5);
      await waitFor('the timer-driven prune', async () => (await h.backend.getCounts('q')).completed === 1, 5000);
    });
  });

  describe('graceful shutdown', () => {
    it('lets running jobs finish, writes their outcomes, and hands buffered jobs back at once', async () => {
      h = await openHarness(flavor, 'pl_drain');
      const rec = recorder();
      const release = gate();
      const body = (data: unknown) => ((data as { quick?: boolean }).quick ? undefined : release.promise);
      const worker = await h.start(recordingSpec(rec, body, { concurrency: 2, shutdownTimeoutMs: 5000 }));
      // Quick jobs first: once the worker has seen them, it buffers beyond its two slots.
      await h.backend.add(Array.from({ length: 3 }, () => newJob({ quick: true })));
      await waitFor('the quick jobs to complete', () => rec.eventsOf('completed').length === 3);
      await h.backend.add(Array.from({ length: 6 }, (_, i) => newJob({ i })));
      await waitFor('two jobs running, four buffered', async () => rec.order.length === 5 && (await h.backend.getCounts('q')).active === 6);
      const closing = worker.close();
      // Buffered jobs go back before the running ones finish, not when their lease runs out.
      await waitFor('the buffered jobs to be handed back', async () => (await h.backend.getCounts('q')).waiting === 4);
      expect(rec.eventsOf('completed')).toHaveLength(3);
      release.open();
      await closing;
      expect(rec.eventsOf('completed')).toHaveLength(5);
      expect(rec.order).toHaveLength(5);
      const left = await h.rows();
      expect(left).toHaveLength(4);
      expect(left.every((r) => r.state === 'waiting' && r.attempts_made === 0 && r.token === null)).toBe(true);
    });

    it('aborts jobs still running after the grace period and hands them back uncounted', async () => {
      h = await openHarness(flavor, 'pl_abort');
      const rec = recorder();
      const reasons: unknown[] = [];
      const worker = await h.start(
        recordingSpec(
          rec,
          async (_data, context) => {
            reasons.push(await aborted(context.signal));
            throw new Error('interrupted');
          },
          { concurrency: 3, shutdownTimeoutMs: 150 },
        ),
      );
      await h.backend.add(Array.from({ length: 3 }, (_, i) => newJob({ i }, { attempts: 1 })));
      await waitFor('three jobs to start', () => rec.order.length === 3);
      const t0 = Date.now();
      await worker.close();
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(reasons).toHaveLength(3);
      for (const reason of reasons) expect((reason as JobAbortedError).why).toBe('shutdown');
      // Back in the queue at once, their attempt not counted and no failure recorded.
      const left = await h.rows();
      expect(left.map((r) => [r.state, r.attempts_made, r.error_message])).toEqual([
        ['waiting', 0, null],
        ['waiting', 0, null],
        ['waiting', 0, null],
      ]);
      expect(rec.eventsOf('failed')).toEqual([]);
      // Another worker takes them straight away.
      const next = recorder();
      await h.start(recordingSpec(next));
      await waitFor('another worker to run them', () => next.eventsOf('completed').length === 3);
    });

    it('closes an idle worker promptly and leaves nothing claimed', async () => {
      h = await openHarness(flavor, 'pl_idleclose');
      const rec = recorder();
      const worker = await h.start(recordingSpec(rec));
      await h.backend.add([newJob({})]);
      await waitFor('the job to complete', () => rec.eventsOf('completed').length === 1);
      const t0 = Date.now();
      await worker.close();
      await worker.close();
      expect(Date.now() - t0).toBeLessThan(2000);
      const statements = watchStatements(h);
      const added = Date.now();
      await h.backend.add([newJob({})]);
      // Not a fixed wait: a live worker on another queue of the same backend, polling on the same
      // interval and listening on the same channel, has looked for jobs three times since; the
      // closed worker, had it kept its poll or its subscription, would have claimed the job by then.
      await h.start(recordingSpec(recorder(), undefined, { queue: 'other' }));
      await waitFor('a live worker to poll three times', () => statements.since(added, h.sql.claim, 'other') >= 3, 5000);
      expect(statements.since(added, h.sql.claim, 'q')).toBe(0);
      expect(rec.order).toHaveLength(1);
      expect(await h.backend.getCounts('q')).toMatchObject({ waiting: 1, active: 0 });
    });
  });
});
