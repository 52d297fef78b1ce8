import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { quoteIdentifier } from '../../lib/core/config/identifiers.js';
import type { AddedJob } from '../../lib/queue/added-job.interface.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { TEST_DATABASE_URL } from '../support/test-env.js';
import { waitFor } from '../support/wait-for.js';
import { claimArgs, gate, newJob, openHarness, recorder, recordingSpec, type PostgresFlavor, type QueueHarness } from './postgres-queue.harness.js';

afterAll(closeSharedPglite);

/**
 * The Postgres runner at backend level, on a server and on PGlite: enqueue and idempotency, the
 * batched claim (order, leases, pause), wake-ups (NOTIFY, delay timers, the poll fallback),
 * per-worker concurrency, transactional enqueue, and each job running once when nothing crashes.
 */
describe.each(['postgres', 'pglite'] as const)('Postgres queue runner on %s', (flavor: PostgresFlavor) => {
  let h: QueueHarness;

  afterEach(async () => {
    jest.restoreAllMocks();
    await h?.close();
  });

  it('enqueues in one statement, returning ids in input order, and reports jobs', async () => {
    h = await openHarness(flavor, 'pq_add');
    const ids = (await h.backend.add([newJob({ n: 1 }), newJob({ n: 2 }, { priority: 3 }), newJob({ n: 3 }, { runAt: Date.now() + 60_000 })])).map((a) => a.id);
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(/^[1-9][0-9]*$/);
    expect(Number(ids[1])).toBeGreaterThan(Number(ids[0]));
    expect(Number(ids[2])).toBeGreaterThan(Number(ids[1]));

    const [{ id: single }] = await h.backend.add([newJob({ n: 4 }, { attempts: 3, name: 'other' })]);
    const info = await h.backend.getJob('q', single!);
    expect(info).toMatchObject({ id: single, queue: 'q', name: 'other', data: { n: 4 }, state: 'waiting', priority: 0, attemptsMade: 0, maxAttempts: 3 });
    expect(info!.createdAt).toBeInstanceOf(Date);
    expect(Math.abs(info!.runAt.getTime() - Date.now())).toBeLessThan(10_000);
    expect(info!.finishedAt).toBeUndefined();
    expect((await h.backend.getJob('q', ids[2]!))!.state).toBe('delayed');
    expect(await h.backend.getJob('q', '999999')).toBeUndefined();
    expect(await h.backend.getJob('other-queue', single!)).toBeUndefined();
    expect(await h.backend.getCounts('q')).toEqual({ waiting: 3, delayed: 1, active: 0, completed: 0, failed: 0, cancelled: 0 });
  });

  it('bulk-enqueues thousands of jobs in one call', async () => {
    h = await openHarness(flavor, 'pq_bulk');
    const ids = (await h.backend.add(Array.from({ length: 3000 }, (_, i) => newJob({ i })))).map((a) => a.id);
    expect(new Set(ids).size).toBe(3000);
    expect((await h.backend.getCounts('q')).waiting).toBe(3000);
    expect((await h.backend.getJob('q', ids[2999]!))!.data).toEqual({ i: 2999 });
  });

  it('treats jobId as an idempotency key: an existing id is returned and nothing is created', async () => {
    h = await openHarness(flavor, 'pq_idem');
    const [first] = await h.backend.add([newJob({ v: 1 }, { jobId: 'order-7' })]);
    expect(first).toEqual({ id: 'order-7', outcome: 'created' });
    expect(await h.backend.add([newJob({ v: 2 }, { jobId: 'order-7' })])).toEqual([{ id: 'order-7', outcome: 'deduplicated' }]);
    const bulk = (
      await h.backend.add([
        newJob({ v: 3 }, { jobId: 'order-8' }),
        newJob({ v: 4 }),
        newJob({ v: 5 }, { jobId: 'order-8' }),
        newJob({ v: 6 }, { jobId: 'order-7' }),
      ])
    ).map((a) => a.id);
    expect(bulk[0]).toBe('order-8');
    expect(bulk[1]).toMatch(/^[0-9]+$/);
    expect(bulk.slice(2)).toEqual(['order-8', 'order-7']);
    expect((await h.backend.getJob('q', 'order-7'))!.data).toEqual({ v: 1 });
    expect((await h.backend.getJob('q', 'order-8'))!.data).toEqual({ v: 3 });
    expect(await h.rows()).toHaveLength(3);
    // The key is per queue.
    expect(await h.backend.add([newJob({ v: 7 }, { jobId: 'order-7', queue: 'other' })])).toEqual([{ id: 'order-7', outcome: 'created' }]);
    expect((await h.backend.getJob('other', 'order-7'))!.data).toEqual({ v: 7 });
  });

  it('claims a batch in one statement: priority first, then FIFO, each with a lease, a fresh token and an attempt', async () => {
    h = await openHarness(flavor, 'pq_claim');
    const ids = (
      await h.backend.add([
        newJob({ n: 'a' }, { priority: 2 }),
        newJob({ n: 'b' }),
        newJob({ n: 'c' }, { priority: 1, leaseMs: 5000 }),
        newJob({ n: 'd' }),
        newJob({ n: 'e' }, { priority: 2 }),
      ])
    ).map((a) => a.id);
    const claim = (limit: number) => h.db.query<{ public_id: string; token: string; attempts_made: number }>(h.sql.claim, claimArgs('q', limit));
    const first = (await claim(3)).rows;
    expect(first.map((r) => r.public_id)).toEqual([ids[1], ids[3], ids[2]]);
    expect(new Set(first.map((r) => r.token)).size).toBe(3);
    expect(first.every((r) => r.attempts_made === 1)).toBe(true);
    const active = await h.rows(`state = 'active'`);
    expect(active.map((r) => r.id).sort()).toEqual([ids[1], ids[2], ids[3]].sort());
    const leaseOfC = active.find((r) => r.id === ids[2])!.lease_left_ms!;
    expect(leaseOfC).toBeGreaterThan(3000);
    expect(leaseOfC).toBeLessThanOrEqual(5000);
    expect(active.find((r) => r.id === ids[1])!.lease_left_ms).toBeGreaterThan(25_000);
    expect((await claim(10)).rows.map((r) => r.public_id)).toEqual([ids[0], ids[4]]);
    expect((await claim(10)).rows).toEqual([]);
  });

  it('returns a claimed batch in FIFO order, whatever the ids look like as text', async () => {
    h = await openHarness(flavor, 'pq_claimorder');
    // Ids 1..120 cross 9 -> 10 and 99 -> 100, where text order and number order differ.
    const ids = (await h.backend.add(Array.from({ length: 120 }, (_, i) => newJob({ i })))).map((a) => a.id);
    const { rows } = await h.db.query<{ public_id: string }>(h.sql.claim, claimArgs('q', 120));
    expect(rows.map((r) => r.public_id)).toEqual(ids);
  });

  it('never hands one job to two concurrent claims', async () => {
    h = await openHarness(flavor, 'pq_skip');
    await h.backend.add(Array.from({ length: 200 }, (_, i) => newJob({ i })));
    const claims = await Promise.all(Array.from({ length: 8 }, () => h.db.query<{ public_id: string }>(h.sql.claim, claimArgs('q', 30))));
    const claimed = claims.flatMap((c) => c.rows.map((r) => r.public_id));
    expect(claimed).toHaveLength(200);
    expect(new Set(claimed).size).toBe(200);
  });

  it('claims jobs with a concurrency key only with the keyed claim, which the plain one points to', async () => {
    h = await openHarness(flavor, 'pq_keyedclaim');
    const [{ id: free }] = await h.backend.add([newJob({ n: 1 })]);
    const [{ id: keyed }] = await h.backend.add([newJob({ n: 2 }, { concurrency: { key: 'acct', limit: 1 } })]);
    // The plain claim takes the job without a key, and says (a first row with a null id) that keyed jobs wait.
    const plain = await h.db.query<{ id: string | null; public_id: string | null }>(h.sql.claim, claimArgs('q', 10));
    expect(plain.rows.map((r) => r.public_id)).toEqual([null, free]);
    const first = await h.db.query<{ id: string | null; public_id: string | null }>(h.sql.claimKeyed, claimArgs('q', 10));
    expect(first.rows.map((r) => r.public_id)).toEqual([null, keyed]);
    // Its key is full now: a second job of it waits (the first row says so) and is not claimed.
    await h.backend.add([newJob({ n: 3 }, { concurrency: { key: 'acct', limit: 1 } })]);
    const full = await h.db.query<{ public_id: string | null }>(h.sql.claimKeyed, claimArgs('q', 10));
    expect(full.rows.map((r) => r.public_id)).toEqual([null]);
  });

  it('queues a job whose runAt has passed behind the jobs already waiting', async () => {
    h = await openHarness(flavor, 'pq_pastrun');
    const [{ id: first }] = await h.backend.add([newJob({ n: 1 })]);
    const [{ id: late }] = await h.backend.add([newJob({ n: 2 }, { runAt: Date.now() - 3_600_000 })]);
    const [{ id: bulkLate }] = await h.backend.add([newJob({ n: 3 }, { runAt: Date.now() - 7_200_000 }), newJob({ n: 4 })]);
    const { rows } = await h.db.query<{ public_id: string }>(h.sql.claim, claimArgs('q', 10));
    expect(rows.map((r) => r.public_id).slice(0, 3)).toEqual([first, late, bulkLate]);
  });

  it('runs jobs in priority then FIFO order with concurrency 1', async () => {
    h = await openHarness(flavor, 'pq_order');
    const ids = (
      await h.backend.add([
        newJob({}, { priority: 5 }),
        newJob({}),
        newJob({}, { priority: 1 }),
        newJob({}),
        newJob({}, { priority: 1 }),
        newJob({}),
      ])
    ).map((a) => a.id);
    const rec = recorder();
    await h.start(recordingSpec(rec, undefined, { concurrency: 1 }));
    await waitFor('all jobs to complete', () => rec.eventsOf('completed').length === 6);
    expect(rec.order).toEqual([ids[1], ids[3], ids[5], ids[2], ids[4], ids[0]]);
  });

  // The contract suite checks the limit on every provider; this is the SQL runner's own part: with
  // quick jobs it claims ahead into its buffer, and buffered jobs must still wait for a free slot.
  it('never starts more than its concurrency while it buffers claimed jobs ahead, and fills it', async () => {
    h = await openHarness(flavor, 'pq_conc');
    await h.backend.add(Array.from({ length: 60 }, (_, i) => newJob({ i })));
    const rec = recorder();
    await h.start(recordingSpec(rec, () => new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 15)), { concurrency: 4 }));
    await waitFor('all jobs to complete', () => rec.eventsOf('completed').length === 60, 15_000);
    expect(rec.maxInFlight).toBe(4);
    expect(rec.runs.size).toBe(60);
    expect([...rec.runs.values()].every((n) => n === 1)).toBe(true);
  });

  it('passes data and context to the handler and reports completion with the result', async () => {
    h = await openHarness(flavor, 'pq_ctx');
    const rec = recorder();
    const seen: unknown[] = [];
    await h.start(
      recordingSpec(rec, (data, context) => {
        seen.push({ data, id: context.id, name: context.name, queue: context.queue, attempt: context.attempt, max: context.maxAttempts, aborted: context.signal.aborted });
        return { echoed: data };
      }),
    );
    const [{ id }] = await h.backend.add([newJob({ hello: 'wörld', list: [1, null] }, { attempts: 2, removeOnComplete: false, jobId: 'ctx-1' })]);
    await waitFor('completion', () => rec.eventsOf('completed').length === 1);
    expect(seen).toEqual([{ data: { hello: 'wörld', list: [1, null] }, id, name: 'work', queue: 'q', attempt: 1, max: 2, aborted: false }]);
    expect(rec.events[0]).toMatchObject({ type: 'completed', queue: 'q', jobId: 'ctx-1', name: 'work', attempt: 1, result: { echoed: { hello: 'wörld', list: [1, null] } } });
    const info = await h.backend.getJob('q', 'ctx-1');
    expect(info).toMatchObject({ state: 'completed', attemptsMade: 1, result: { echoed: { hello: 'wörld', list: [1, null] } } });
    expect(info!.finishedAt).toBeInstanceOf(Date);
  });

  it('fails a job whose name has no handler in this worker, naming the job', async () => {
    h = await openHarness(flavor, 'pq_nohandler');
    const rec = recorder();
    await h.start(recordingSpec(rec));
    const [{ id }] = await h.backend.add([newJob({}, { name: 'unknown-name' })]);
    await waitFor('the failure', () => rec.eventsOf('failed').length === 1);
    const info = await h.backend.getJob('q', id!);
    expect(info!.state).toBe('failed');
    expect(info!.error!.message).toContain('unknown-name');
    expect(rec.runs.size).toBe(0);
  });

  it('wakes an idle worker by NOTIFY at once, without waiting for the poll', async () => {
    h = await openHarness(flavor, 'pq_notify', { pollIntervalMs: 60_000 });
    const rec = recorder();
    await h.start(recordingSpec(rec));
    // Let the first (empty) claim finish so the worker is idle.
    await waitFor('the worker to go idle', async () => (await h.backend.getCounts('q')).active === 0);
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      await h.backend.add([newJob({ i })]);
      await waitFor(`job ${i} to run`, () => rec.order.length === i + 1, 3000, 1);
      expect(Date.now() - t0).toBeLessThan(2000);
    }
  });

  it('picks up a job that came without a notification on the poll', async () => {
    h = await openHarness(flavor, 'pq_poll', { pollIntervalMs: 150 });
    const rec = recorder();
    await h.start(recordingSpec(rec));
    // Written by hand, as a writer that does not notify would.
    await h.db.query(
      `INSERT INTO ${quoteIdentifier(h.schema)}.queue_jobs (queue, name, data, state, max_attempts, timeout_ms) VALUES ('q', 'work', '{}', 'waiting', 1, 30000)`,
    );
    await waitFor('the poll to pick the job up', () => rec.order.length === 1, 3000);
  });

  it('runs a delayed job when it falls due, not before', async () => {
    h = await openHarness(flavor, 'pq_delay', { pollIntervalMs: 60_000 });
    const rec = recorder();
    const startedAt: number[] = [];
    await h.start(recordingSpec(rec, () => void startedAt.push(Date.now())));
    const runAt = Date.now() + 400;
    const [{ id }] = await h.backend.add([newJob({}, { runAt })]);
    expect((await h.backend.getCounts('q')).delayed).toBe(1);
    // The poll is a minute away: only the notification's wake-up timer can run it on time.
    await waitFor('the delayed job to run', () => rec.order.length === 1, 5000);
    expect(rec.order).toEqual([id]);
    expect(startedAt[0]!).toBeGreaterThanOrEqual(runAt - 50);
    expect(startedAt[0]! - runAt).toBeLessThan(2500);
  });

  it('runs delayed jobs that were waiting before the worker started, each on time', async () => {
    h = await openHarness(flavor, 'pq_delay2', { pollIntervalMs: 60_000 });
    const now = Date.now();
    await h.backend.add([newJob({ n: 1 }, { runAt: now + 300 }), newJob({ n: 2 }, { runAt: now + 700 })]);
    const rec = recorder();
    const startedAt: number[] = [];
    await h.start(recordingSpec(rec, () => void startedAt.push(Date.now())));
    await waitFor('both delayed jobs to run', () => rec.order.length === 2, 5000);
    expect(startedAt[0]!).toBeGreaterThanOrEqual(now + 250);
    expect(startedAt[1]!).toBeGreaterThanOrEqual(now + 650);
  });

  it('starts nothing while a queue is paused, in any worker, and resumes on resume', async () => {
    h = await openHarness(flavor, 'pq_pause');
    const rec = recorder();
    await h.backend.pause('q');
    await h.backend.pause('q');
    await h.start(recordingSpec(rec));
    const claims = jest.spyOn(h.db, 'queryPrepared');
    const claimsSoFar = () => claims.mock.calls.filter(([text]) => text === h.sql.claim).length;
    await h.backend.add(Array.from({ length: 5 }, (_, i) => newJob({ i })));
    expect((await h.db.query(h.sql.claim, claimArgs('q', 10))).rows).toEqual([]);
    // Not a fixed wait: the worker has looked for jobs (on the notification, then by polling)
    // several times since they were added, and started none.
    const seen = claimsSoFar();
    await waitFor('the worker to look for jobs three more times', () => claimsSoFar() >= seen + 3, 5000);
    expect(rec.order).toEqual([]);
    expect((await h.backend.getCounts('q')).waiting).toBe(5);
    await h.backend.resume('q');
    await waitFor('the jobs to run after resume', () => rec.eventsOf('completed').length === 5);
  });

  it('hands back the jobs a worker buffered when the queue is paused', async () => {
    h = await openHarness(flavor, 'pq_pausebuf');
    const rec = recorder();
    const release = gate();
    await h.start(recordingSpec(rec, (data) => ((data as { quick?: boolean }).quick ? undefined : release.promise), { concurrency: 1 }));
    // Quick jobs first: once the worker has seen them, it buffers beyond its one slot.
    await h.backend.add(Array.from({ length: 3 }, () => newJob({ quick: true })));
    await waitFor('the quick jobs to complete', () => rec.eventsOf('completed').length === 3);
    await h.backend.add(Array.from({ length: 4 }, (_, i) => newJob({ i })));
    await waitFor('one job running and three buffered (claimed)', async () => rec.order.length === 4 && (await h.backend.getCounts('q')).active === 4);
    await h.backend.pause('q');
    await waitFor('the buffered jobs to go back', async () => (await h.backend.getCounts('q')).waiting === 3);
    release.open();
    await waitFor('the running job to complete', () => rec.eventsOf('completed').length === 4);
    expect(rec.order).toHaveLength(4);
    const back = await h.rows(`state = 'waiting'`);
    expect(back.every((r) => r.attempts_made === 0 && r.token === null)).toBe(true);
  });

  it('enqueues on the caller transaction: nothing on rollback, the job (and its wake-up) on commit', async () => {
    h = await openHarness(flavor, 'pq_tx', { pollIntervalMs: 60_000 });
    const rec = recorder();
    await h.start(recordingSpec(rec));
    await expect(
      h.db.transaction(async (tx) => {
        await h.backend.addInTransaction(tx, [newJob({ order: 1 }, { jobId: 'rolled-back' })]);
        throw new Error('business write failed');
      }),
    ).rejects.toThrow('business write failed');
    expect(await h.backend.getJob('q', 'rolled-back')).toBeUndefined();

    let idInside: string | undefined;
    await h.db.transaction(async (tx) => {
      [{ id: idInside }] = await h.backend.addInTransaction(tx, [newJob({ order: 2 }), newJob({ order: 3 })]);
      // Not visible, and not started, before commit.
      expect(rec.order).toEqual([]);
    });
    await waitFor('the committed jobs to run (woken by the notification sent at commit)', () => rec.order.length === 2, 3000);
    expect(rec.order[0]).toBe(idInside);
    expect(rec.runs.has('rolled-back')).toBe(false);
  });

  if (flavor === 'postgres') {
    it('enqueues on a pg client the caller holds in BEGIN ... ROLLBACK / COMMIT', async () => {
      h = await openHarness(flavor, 'pq_txclient');
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query('BEGIN');
        await h.backend.addInTransaction(client, [newJob({}, { jobId: 'outbox-1' })]);
        await client.query('ROLLBACK');
        expect(await h.backend.getJob('q', 'outbox-1')).toBeUndefined();
        await client.query('BEGIN');
        await h.backend.addInTransaction(client, [newJob({}, { jobId: 'outbox-2' })]);
        expect(await h.backend.getJob('q', 'outbox-2')).toBeUndefined();
        await client.query('COMMIT');
        expect((await h.backend.getJob('q', 'outbox-2'))!.state).toBe('waiting');
      } finally {
        await client.end();
      }
    });
  }

  it('runs each of 2,000 jobs exactly once across several workers on one schema', async () => {
    h = await openHarness(flavor, 'pq_once');
    const rec = recorder();
    const peer = await h.openPeer();
    const third = await h.openPeer();
    const body = (data: unknown) => ((data as { i: number }).i % 7 === 0 ? new Promise((resolve) => setTimeout(resolve, 1)) : undefined);
    await h.start(recordingSpec(rec, body, { concurrency: 5 }));
    await h.start(recordingSpec(rec, body, { concurrency: 3 }), peer);
    await h.start(recordingSpec(rec, body, { concurrency: 8 }), third);
    // Enqueue while the workers run, in bulk and one by one, so claims race with inserts.
    const adds: Promise<AddedJob[]>[] = [];
    for (let i = 0; i < 1900; i += 100) adds.push(h.backend.add(Array.from({ length: 100 }, (_, k) => newJob({ i: i + k }))));
    for (let i = 1900; i < 2000; i++) adds.push(peer.add([newJob({ i })]));
    const ids = (await Promise.all(adds)).flat().map((a) => a.id);
    expect(new Set(ids).size).toBe(2000);
    await waitFor('every job to complete', () => rec.eventsOf('completed').length >= 2000, 60_000, 20);
    expect(rec.runs.size).toBe(2000);
    const twice = [...rec.runs.entries()].filter(([, n]) => n !== 1);
    expect(twice).toEqual([]);
    expect(rec.eventsOf('completed')).toHaveLength(2000);
    expect(rec.eventsOf('stalled')).toHaveLength(0);
    await waitFor('the table to empty (removeOnComplete)', async () => (await h.rows()).length === 0);
  }, 90_000);
});
