import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { SqlClient, SqlDatabase } from '../../lib/core/connections/sql-client.js';
import { PgPoolDatabase } from '../../lib/core/connections/pg-pool.database.js';
import { PgliteDatabase } from '../../lib/core/connections/pglite.database.js';
import { quoteIdentifier } from '../../lib/core/config/identifiers.js';
import { BALLAST_LOCK_CLASS } from '../../lib/core/migrations/migrator.js';
import { openPostgresJobStore } from '../../lib/drivers/postgres/queue/open-postgres-job-store.js';
import { JobLeaseExpiredError } from '../../lib/errors/job-lease-expired.error.js';
import { InvalidJobOptionError } from '../../lib/errors/invalid-job-option.error.js';
import type { JobState } from '../../lib/queue/job.interface.js';
import { checkJobListOptions } from '../../lib/queue/job-list.query.js';
import type { JobLease, JobRenewal, JobSignal, JobStore, JobWakeup, LeasedJob, ReapedJob, SerializedJob } from '../../lib/queue/job-store.interface.js';
import type { NewJob } from '../../lib/queue/queue-backend.interface.js';
import { dropSchemaOnServer } from '../support/backends.js';
import { closeSharedPglite, sharedPglite } from '../support/shared-pglite.js';
import { TEST_DATABASE_URL } from '../support/test-env.js';
import { uniqueSchema } from '../support/unique-name.js';
import { waitFor } from '../support/wait-for.js';
import { newJob, type PostgresFlavor } from './postgres-queue.harness.js';
import { OutageLog } from '../../lib/common/outage-log.js';
import { moduleJobDefaults } from '../../lib/queue/job-options.validation.js';
import type { NewSchedule } from '../../lib/queue/new-schedule.interface.js';
import { JobStoreScheduler } from '../../lib/queue/runner/job-store.scheduler.js';
import { toNewSchedule } from '../../lib/queue/schedule.validation.js';
import type { JobSchedule } from '../../lib/queue/schedule-options.interface.js';

afterAll(closeSharedPglite);

/** A job as the runner hands it to `JobStore.enqueue`: `newJob`'s defaults, the data already JSON text. */
function serialized(data: unknown = {}, overrides: Partial<NewJob> = {}): SerializedJob {
  const job = newJob(data, overrides);
  return { ...job, json: JSON.stringify(job.data) };
}

const lease = (job: LeasedJob): JobLease => ({ ref: job.ref, token: job.token });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A lease short enough to be waited out in a test; the SQL puts no lower bound on `timeout_ms`. */
const SHORT_LEASE = 100;

/** Rejects if `promise` has not settled within `ms`: for statements that must not wait on a lock. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The `JobStore` seam as its JSDoc states it, on the Postgres store over a server and over PGlite,
 * called directly (no runner): enqueue and idempotency, transactional enqueue, the claim (order,
 * limit, skip-locked, pause, delay), every lease-guarded write (complete, fail, renew, release),
 * the reaper, promotion of delayed jobs, pruning, the admin methods, and the LISTEN/NOTIFY wake-up.
 */
describe.each(['postgres', 'pglite'] as const)('JobStore contract on %s', (flavor: PostgresFlavor) => {
  let db: SqlDatabase;
  let schema: string;
  let store: JobStore;
  let wakeup: JobWakeup;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    schema = uniqueSchema('jsc');
    const opened: SqlDatabase =
      flavor === 'postgres'
        ? new PgPoolDatabase(new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 }), true)
        : new PgliteDatabase(await sharedPglite(), false);
    const name = schema;
    cleanups.push(async () => {
      if (flavor === 'pglite') await opened.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(name)} CASCADE`);
      await opened.close();
      if (flavor === 'postgres') await dropSchemaOnServer(name);
    });
    db = opened;
    ({ store, wakeup } = await openPostgresJobStore(db, schema, { durableEnqueue: true }));
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const enqueueOne = async (data: unknown = {}, overrides: Partial<NewJob> = {}): Promise<string> =>
    (await store.enqueue([serialized(data, overrides)]))[0]!.id;
  /** `store.enqueue`, resolving to the jobs' ids only. */
  const enqueueIds = async (jobs: readonly SerializedJob[], transaction?: SqlClient): Promise<string[]> =>
    (await store.enqueue(jobs, transaction)).map((added) => added.id);

  /** `store.renew`, resolving to the refs renewed only. */
  const renewedRefs = async (jobs: readonly JobRenewal[]): Promise<Set<string>> => (await store.renew(jobs)).renewed;

  /** Reaps `queue` until `count` jobs came back (their leases running out), accumulating what each call returned. */
  const reapUntil = async (queue: string, count: number, maxStalls: number): Promise<ReapedJob[]> => {
    const reaped: ReapedJob[] = [];
    await waitFor(`${count} expired job(s) of ${queue} to be reaped`, async () => {
      reaped.push(...(await store.reap(queue, 100, maxStalls)));
      return reaped.length >= count;
    });
    return reaped;
  };

  /** Opens a session of the test's own on the server (a second process). */
  const serverSession = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    cleanups.push(() => client.end().catch(() => undefined));
    return client;
  };

  describe('enqueue', () => {
    it('returns one id per job in input order, each naming the job it created', async () => {
      const jobs = [serialized({ n: 0 }), serialized({ n: 1 }, { priority: 3 }), serialized({ n: 2 }, { jobId: 'key-2' }), serialized({ n: 3 })];
      const ids = await enqueueIds(jobs);
      expect(ids).toHaveLength(4);
      expect(ids[2]).toBe('key-2');
      for (const i of [0, 1, 3]) expect(ids[i]).toMatch(/^[1-9][0-9]*$/);
      expect(Number(ids[1])).toBeGreaterThan(Number(ids[0]));
      expect(Number(ids[3])).toBeGreaterThan(Number(ids[1]));
      for (const [i, id] of ids.entries()) expect((await store.getJob('q', id))!.data).toEqual({ n: i });
      const [single] = await enqueueIds([serialized({ n: 4 })]);
      expect(Number(single)).toBeGreaterThan(Number(ids[3]));
      expect((await store.getJob('q', single!))!.data).toEqual({ n: 4 });
      expect(await store.enqueue([])).toEqual([]);
      expect((await store.counts('q')).waiting).toBe(5);
    });

    it('dedupes by jobId: the existing id is returned and nothing is created, one job or many, per queue', async () => {
      expect(await store.enqueue([serialized({ v: 1 }, { jobId: 'order-7' })])).toEqual([{ id: 'order-7', outcome: 'created' }]);
      expect(await store.enqueue([serialized({ v: 2 }, { jobId: 'order-7', priority: 9 })])).toEqual([{ id: 'order-7', outcome: 'deduplicated' }]);
      const bulk = await enqueueIds([
        serialized({ v: 3 }, { jobId: 'order-8' }),
        serialized({ v: 4 }),
        serialized({ v: 5 }, { jobId: 'order-8' }),
        serialized({ v: 6 }, { jobId: 'order-7' }),
      ]);
      expect(bulk[0]).toBe('order-8');
      expect(bulk[1]).toMatch(/^[1-9][0-9]*$/);
      expect(bulk.slice(2)).toEqual(['order-8', 'order-7']);
      expect(await store.getJob('q', 'order-7')).toMatchObject({ data: { v: 1 }, priority: 0 });
      expect((await store.getJob('q', 'order-8'))!.data).toEqual({ v: 3 });
      expect((await store.counts('q')).waiting).toBe(3);
      // A key names one job per queue.
      expect(await store.enqueue([serialized({ v: 7 }, { jobId: 'order-7', queue: 'other' })])).toEqual([{ id: 'order-7', outcome: 'created' }]);
      expect((await store.getJob('other', 'order-7'))!.data).toEqual({ v: 7 });
      // A finished job that is kept still holds its key; one that was removed frees it.
      await store.enqueue([serialized({ v: 8 }, { jobId: 'kept', queue: 'done', removeOnComplete: false }), serialized({ v: 9 }, { jobId: 'gone', queue: 'done' })]);
      const finished = await store.claim('done', 2, 2);
      expect(await store.complete(finished.map((job) => ({ ...lease(job), resultJson: null })))).toEqual(new Set(finished.map((job) => job.ref)));
      expect(await store.enqueue([serialized({ v: 10 }, { jobId: 'kept', queue: 'done' }), serialized({ v: 11 }, { jobId: 'gone', queue: 'done' })])).toEqual([
        { id: 'kept', outcome: 'deduplicated' },
        { id: 'gone', outcome: 'created' },
      ]);
      expect(await store.getJob('done', 'kept')).toMatchObject({ state: 'completed', data: { v: 8 } });
      expect(await store.getJob('done', 'gone')).toMatchObject({ state: 'waiting', data: { v: 11 } });
    });

    it('inside a transaction, the jobs exist if and only if it commits', async () => {
      const committed = await db.transaction(async (tx) => {
        const ids = await enqueueIds([serialized({ t: 1 }, { jobId: 'tx-a' }), serialized({ t: 2 })], tx);
        const [one] = await enqueueIds([serialized({ t: 3 })], tx);
        // Inside the transaction the key is taken already.
        expect(await store.enqueue([serialized({ t: 4 }, { jobId: 'tx-a' })], tx)).toEqual([{ id: 'tx-a', outcome: 'deduplicated' }]);
        if (flavor === 'postgres') {
          // Another session (the store's own pool) does not see them before the commit.
          expect(await store.getJob('q', 'tx-a')).toBeUndefined();
          expect((await store.counts('q')).waiting).toBe(0);
        }
        return [...ids, one!];
      });
      expect(committed[0]).toBe('tx-a');
      expect((await store.getJob('q', 'tx-a'))!.data).toEqual({ t: 1 });
      expect((await store.getJob('q', committed[1]!))!.data).toEqual({ t: 2 });
      expect((await store.getJob('q', committed[2]!))!.data).toEqual({ t: 3 });

      let rolledBack: string[] = [];
      await expect(
        db.transaction(async (tx) => {
          rolledBack = [...(await enqueueIds([serialized({ r: 1 }, { jobId: 'tx-b' }), serialized({ r: 2 })], tx)), ...(await enqueueIds([serialized({ r: 3 })], tx))];
          throw new Error('roll it back');
        }),
      ).rejects.toThrow('roll it back');
      expect(rolledBack).toHaveLength(3);
      for (const id of rolledBack) expect(await store.getJob('q', id)).toBeUndefined();
      expect((await store.counts('q')).waiting).toBe(3);
      // The rolled-back key is free again.
      expect(await store.enqueue([serialized({ r: 4 }, { jobId: 'tx-b' })])).toEqual([{ id: 'tx-b', outcome: 'created' }]);
      expect((await store.getJob('q', 'tx-b'))!.data).toEqual({ r: 4 });
    });

    it('unique: the first add of a key creates, later ones get its job until the window ends, even once the job is gone', async () => {
      const unique = (key: string, forMs: number) => ({ dedupe: { mode: 'unique' as const, key, forMs } });
      const [first] = await store.enqueue([serialized({ v: 1 }, unique('u-1', 60_000))]);
      expect(first!.outcome).toBe('created');
      expect(await store.enqueue([serialized({ v: 2 }, unique('u-1', 60_000))])).toEqual([{ id: first!.id, outcome: 'deduplicated' }]);
      // Completed with the default retention: the row is deleted, the key holds.
      const [claimed] = await store.claim('q', 1, 1);
      expect(await store.complete([{ ...lease(claimed!), resultJson: null }])).toEqual(new Set([claimed!.ref]));
      expect(await store.getJob('q', first!.id)).toBeUndefined();
      expect(await store.enqueue([serialized({ v: 3 }, unique('u-1', 60_000))])).toEqual([{ id: first!.id, outcome: 'deduplicated' }]);
      // Per queue; with a jobId, the job is known by it.
      expect(await store.enqueue([serialized({}, { queue: 'other', ...unique('u-1', 60_000) })])).toEqual([{ id: expect.any(String), outcome: 'created' }]);
      expect(await store.enqueue([serialized({}, { jobId: 'order-9', ...unique('u-2', 60_000) })])).toEqual([{ id: 'order-9', outcome: 'created' }]);
      expect(await store.enqueue([serialized({}, { jobId: 'order-10', ...unique('u-2', 60_000) })])).toEqual([{ id: 'order-9', outcome: 'deduplicated' }]);
      // A short window ends; the pruner deletes ended keys only.
      const [short] = await store.enqueue([serialized({}, unique('u-3', 150))]);
      const next = await waitFor('the short window to end', async () => {
        const [added] = await store.enqueue([serialized({}, unique('u-3', 150))]);
        return added!.outcome === 'created' ? added : undefined;
      });
      expect(next!.id).not.toBe(short!.id);
      await waitFor('the second short window to end', async () => (await store.prune('keys', 100)) === 1);
      expect(await store.prune('keys', 100)).toBe(0);
      expect(await store.enqueue([serialized({ v: 4 }, unique('u-1', 60_000))])).toEqual([{ id: first!.id, outcome: 'deduplicated' }]);
    });

    it('unique: concurrent adds of one key create one job', async () => {
      const adds = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.enqueue([serialized({ i }, { dedupe: { mode: 'unique', key: 'race', forMs: 60_000 } })])),
      );
      const outcomes = adds.map(([added]) => added!);
      expect(outcomes.filter((added) => added.outcome === 'created')).toHaveLength(1);
      expect(new Set(outcomes.map((added) => added.id)).size).toBe(1);
      expect((await store.counts('q')).waiting).toBe(1);
    });

    it('debounce: replaces the waiting job of its key (data and run time); a running one gives its key to a new job', async () => {
      const debounce = (data: unknown, delayMs: number) =>
        serialized(data, { runAt: Date.now() + delayMs, dedupe: { mode: 'debounce', key: 'd-1', delayMs } });
      const [first] = await store.enqueue([debounce({ v: 1 }, 60_000)]);
      expect(first!.outcome).toBe('created');
      const before = (await store.getJob('q', first!.id))!.runAt.getTime();
      const [second] = await store.enqueue([debounce({ v: 2 }, 120_000)]);
      expect(second).toEqual({ id: first!.id, outcome: 'replaced' });
      const replaced = (await store.getJob('q', first!.id))!;
      expect(replaced).toMatchObject({ state: 'delayed', data: { v: 2 } });
      expect(replaced.runAt.getTime()).toBeGreaterThan(before + 30_000);
      // Due and claimed: the job runs under the key; the next add takes the key for a job of its own.
      const [soon] = await store.enqueue([debounce({ v: 3 }, 1)]);
      expect(soon).toEqual({ id: first!.id, outcome: 'replaced' });
      const [running] = (await waitFor('the debounced job to be due and claimed', async () => {
        await store.promote('q', 10);
        const claimed = await store.claim('q', 1, 1);
        return claimed.length > 0 ? claimed : undefined;
      }))!;
      expect(running!.id).toBe(first!.id);
      const [third] = await store.enqueue([debounce({ v: 4 }, 60_000)]);
      expect(third!.outcome).toBe('created');
      expect(third!.id).not.toBe(first!.id);
      // The running job retries without its key: no clash with the new one.
      expect((await store.fail([{ ...lease(running!), retryMs: 0, message: 'again', stack: null }])).retried).toEqual(new Set([running!.ref]));
      expect(await store.enqueue([debounce({ v: 5 }, 60_000)])).toEqual([{ id: third!.id, outcome: 'replaced' }]);
      expect((await store.getJob('q', third!.id))!.data).toEqual({ v: 5 });
      expect((await store.getJob('q', first!.id))!.data).toEqual({ v: 3 });
    });

    it('throttle: the pending job of its key takes every add until it finishes, and is left as it was', async () => {
      const throttle = (data: unknown) => serialized(data, { runAt: Date.now() + 50, dedupe: { mode: 'throttle', key: 't-1', forMs: 50 } });
      const [first] = await store.enqueue([throttle({ v: 1 })]);
      expect(first!.outcome).toBe('created');
      const runAt = (await store.getJob('q', first!.id))!.runAt.getTime();
      expect(await store.enqueue([throttle({ v: 2 })])).toEqual([{ id: first!.id, outcome: 'deduplicated' }]);
      expect((await store.getJob('q', first!.id))!).toMatchObject({ data: { v: 1 }, runAt: new Date(runAt) });
      const [running] = (await waitFor('the throttled job to be due and claimed', async () => {
        await store.promote('q', 10);
        const claimed = await store.claim('q', 1, 1);
        return claimed.length > 0 ? claimed : undefined;
      }))!;
      // Running is not finished: still deduplicated.
      expect(await store.enqueue([throttle({ v: 3 })])).toEqual([{ id: first!.id, outcome: 'deduplicated' }]);
      await store.complete([{ ...lease(running!), resultJson: null }]);
      const [after] = await store.enqueue([throttle({ v: 4 })]);
      expect(after!.outcome).toBe('created');
      expect(after!.id).not.toBe(first!.id);
    });

    it('a batch with keyed jobs is all or none, each keyed job deciding in input order', async () => {
      const unique = { dedupe: { mode: 'unique' as const, key: 'b-1', forMs: 60_000 } };
      const added = await store.enqueue([serialized({ n: 0 }), serialized({ n: 1 }, unique), serialized({ n: 2 }, unique), serialized({ n: 3 })]);
      expect(added.map((job) => job.outcome)).toEqual(['created', 'created', 'deduplicated', 'created']);
      expect(added[2]!.id).toBe(added[1]!.id);
      expect((await store.counts('q')).waiting).toBe(3);
      // A job the server refuses (bad JSON text) rolls the whole call back, keys included.
      await expect(store.enqueue([serialized({}, { dedupe: { mode: 'unique', key: 'b-2', forMs: 60_000 } }), { ...serialized({}), json: '{bad' }])).rejects.toThrow();
      expect((await store.counts('q')).waiting).toBe(3);
      expect((await store.enqueue([serialized({}, { dedupe: { mode: 'unique', key: 'b-2', forMs: 60_000 } })]))[0]!.outcome).toBe('created');
    });

    it('inserts a batch of thousands in one call, ids in input order', async () => {
      const ids = await enqueueIds(Array.from({ length: 2000 }, (_, i) => serialized({ i })));
      expect(new Set(ids).size).toBe(2000);
      expect((await store.counts('q')).waiting).toBe(2000);
      const claimed = await store.claim('q', 2000, 0);
      // One statement, one now(): FIFO among them is id order, which is input order.
      expect(claimed.map((job) => job.id)).toEqual(ids);
      for (const [i, job] of claimed.entries()) expect(JSON.parse(job.json)).toEqual({ i });
    });
  });

  describe('claim', () => {
    it('leases by priority, then age, at most `limit` at a time', async () => {
      const a = await enqueueOne({ n: 'a' }, { priority: 2 });
      const b = await enqueueOne({ n: 'b' });
      const c = await enqueueOne({ n: 'c' }, { priority: 1 });
      const d = await enqueueOne({ n: 'd' });
      const [e, f] = await enqueueIds([serialized({ n: 'e' }, { priority: 1 }), serialized({ n: 'f' })]);
      const first = await store.claim('q', 2, 2);
      expect(first.map((j) => j.id)).toEqual([b, d]);
      const second = await store.claim('q', 3, 3);
      expect(second.map((j) => j.id)).toEqual([f, c, e]);
      expect((await store.claim('q', 10, 10)).map((j) => j.id)).toEqual([a]);
      expect(await store.claim('q', 10, 10)).toEqual([]);
      expect(await store.counts('q')).toMatchObject({ waiting: 0, active: 6 });
    });

    it('returns each leased job with its fields: ref, id, name, json, attempt 1, maxAttempts, leaseMs, runTimeoutMs, scheduledFor, retryLaters, backoff, token, dropResult', async () => {
      const [keyed, kept, counted] = await enqueueIds([
        serialized({ hello: 'world' }, { name: 'send', jobId: 'mail-1', attempts: 3, leaseMs: 4321, runTimeoutMs: 2500, backoff: { type: 'exponential', delay: 250, jitter: 0.5 } }),
        serialized([1, 2], { removeOnComplete: false }),
        serialized(null, { removeOnComplete: 5 }),
      ]);
      const claimed = await store.claim('q', 10, 10);
      expect(claimed.map((j) => j.id)).toEqual([keyed, kept, counted]);
      const [one, two, three] = claimed;
      expect(one).toEqual({
        ref: expect.stringMatching(/^[1-9][0-9]*$/),
        id: 'mail-1',
        name: 'send',
        json: '{"hello": "world"}',
        attempt: 1,
        maxAttempts: 3,
        leaseMs: 4321,
        runTimeoutMs: 2500,
        scheduledFor: null,
        retryLaters: 0,
        backoff: { type: 'exponential', delay: 250, jitter: 0.5 },
        token: expect.stringMatching(UUID),
        dropResult: true,
        keyed: false,
      });
      expect(JSON.parse(one!.json)).toEqual({ hello: 'world' });
      expect(one!.ref).not.toBe('mail-1');
      // A generated id is the row's own id.
      expect(two).toMatchObject({ ref: kept, id: kept, name: 'work', attempt: 1, maxAttempts: 1, leaseMs: 30_000, runTimeoutMs: null, backoff: { type: 'fixed', delay: 0, jitter: 0 }, dropResult: false });
      expect(JSON.parse(two!.json)).toEqual([1, 2]);
      expect(three).toMatchObject({ id: counted, dropResult: false, json: 'null' });
      expect(new Set(claimed.map((j) => j.token)).size).toBe(3);
      expect(await store.getJob('q', 'mail-1')).toMatchObject({ state: 'active', attemptsMade: 1 });
    });

    it('never hands one job to two concurrent claims', async () => {
      await store.enqueue(Array.from({ length: 120 }, (_, i) => serialized({ i })));
      const claims = await Promise.all(Array.from({ length: 6 }, () => store.claim('q', 25, 25)));
      const ids = claims.flatMap((batch) => batch.map((j) => j.id));
      expect(ids).toHaveLength(120);
      expect(new Set(ids).size).toBe(120);
      for (const batch of claims) expect(batch.length).toBeLessThanOrEqual(25);
    });

    if (flavor === 'postgres') {
      it('skips a job another session holds locked, without waiting for it', async () => {
        const [held, free1, free2] = await enqueueIds([serialized({ n: 0 }), serialized({ n: 1 }), serialized({ n: 2 })]);
        const other = await serverSession();
        await other.query('BEGIN');
        await other.query(`SELECT id FROM ${quoteIdentifier(schema)}.queue_jobs WHERE id = $1 FOR UPDATE`, [held]);
        const claimed = await within(store.claim('q', 10, 10), 3000, 'a claim while a row is locked');
        expect(claimed.map((j) => j.id)).toEqual([free1, free2]);
        await other.query('ROLLBACK');
        expect((await store.claim('q', 10, 10)).map((j) => j.id)).toEqual([held]);
      });
    }

    it('claims neither a delayed job before its time nor anything of a paused queue', async () => {
      const delayed = await enqueueOne({}, { runAt: Date.now() + 60_000 });
      expect(await store.claim('q', 10, 10)).toEqual([]);
      expect((await store.getJob('q', delayed))!.state).toBe('delayed');

      const ready = await enqueueOne({});
      const elsewhere = await enqueueOne({}, { queue: 'other' });
      await store.pause('q');
      await store.pause('q'); // idempotent
      expect(await store.claim('q', 10, 10)).toEqual([]);
      // Paused queues still accept jobs; other queues are not paused.
      const late = await enqueueOne({});
      expect((await store.claim('other', 10, 10)).map((j) => j.id)).toEqual([elsewhere]);
      await store.resume('q');
      expect((await store.claim('q', 10, 10)).map((j) => j.id)).toEqual([ready, late]);
      await store.resume('q'); // resuming a queue that is not paused changes nothing
      expect(await store.counts('q')).toMatchObject({ active: 2, delayed: 1 });
    });
  });

  describe('complete', () => {
    it('applies only completions whose token matches, storing the result or removing the job per its retention', async () => {
      const [kept, dropped, wrong, noResult] = await enqueueIds([
        serialized({}, { removeOnComplete: false }),
        serialized({}, { removeOnComplete: true }),
        serialized({}, { removeOnComplete: false }),
        serialized({}, { removeOnComplete: false }),
      ]);
      const [k, d, w, n] = await store.claim('q', 4, 4);
      expect(d!.dropResult).toBe(true);
      const applied = await store.complete([
        { ...lease(k!), resultJson: '{"ok":true,"n":[1,2]}' },
        { ...lease(d!), resultJson: null },
        { ref: w!.ref, token: randomUUID(), resultJson: '"nope"' },
        { ...lease(n!), resultJson: null },
      ]);
      expect(applied).toEqual(new Set([k!.ref, d!.ref, n!.ref]));

      const info = await store.getJob('q', kept);
      expect(info).toMatchObject({ state: 'completed', result: { ok: true, n: [1, 2] }, attemptsMade: 1 });
      expect(info!.finishedAt).toBeInstanceOf(Date);
      expect(Math.abs(info!.finishedAt!.getTime() - Date.now())).toBeLessThan(10_000);
      expect(await store.getJob('q', dropped)).toBeUndefined();
      expect(await store.getJob('q', wrong)).toMatchObject({ state: 'active' });
      const none = await store.getJob('q', noResult);
      expect(none!.state).toBe('completed');
      expect(none).not.toHaveProperty('result');
      expect(await store.counts('q')).toEqual({ waiting: 0, delayed: 0, active: 1, completed: 2, failed: 0, cancelled: 0 });

      // The token was spent: the same completion again is not applied, and the wrong-token job completes with its own.
      expect(await store.complete([{ ...lease(k!), resultJson: '"again"' }])).toEqual(new Set());
      expect((await store.getJob('q', kept))!.result).toEqual({ ok: true, n: [1, 2] });
      expect(await store.complete([{ ...lease(w!), resultJson: '"mine"' }])).toEqual(new Set([w!.ref]));
      expect((await store.getJob('q', wrong))!.result).toBe('mine');
    });
  });

  describe('fail', () => {
    it('retries (waiting or delayed, attempt counted) or fails for good, per entry, only with a matching token', async () => {
      const [now, later, dead, wrong] = await enqueueIds([
        serialized({}, { attempts: 3 }),
        serialized({}, { attempts: 3 }),
        serialized({}, { attempts: 3 }),
        serialized({}, { attempts: 3 }),
      ]);
      const [a, b, c, w] = await store.claim('q', 4, 4);
      const outcome = await store.fail([
        { ...lease(a!), retryMs: 0, message: 'first', stack: 'Error: first\n    at a' },
        { ...lease(b!), retryMs: 400, message: 'second', stack: null },
        { ...lease(c!), retryMs: null, message: 'for good', stack: 'Error: for good\n    at c' },
        { ref: w!.ref, token: randomUUID(), retryMs: null, message: 'not mine', stack: null },
      ]);
      expect(outcome.retried).toEqual(new Set([a!.ref, b!.ref]));
      expect(outcome.failed).toEqual(new Set([c!.ref]));

      // A retry keeps the error and the attempt it used.
      expect(await store.getJob('q', now)).toMatchObject({ state: 'waiting', attemptsMade: 1, error: { message: 'first', stack: 'Error: first\n    at a' } });
      const delayedInfo = await store.getJob('q', later);
      expect(delayedInfo).toMatchObject({ state: 'delayed', attemptsMade: 1, error: { message: 'second' } });
      expect(delayedInfo!.error).not.toHaveProperty('stack');
      const deadInfo = await store.getJob('q', dead);
      expect(deadInfo).toMatchObject({ state: 'failed', attemptsMade: 1, error: { message: 'for good', stack: 'Error: for good\n    at c' } });
      expect(deadInfo!.finishedAt).toBeInstanceOf(Date);
      expect(await store.getJob('q', wrong)).toMatchObject({ state: 'active' });

      // The immediate retry is claimable at once, as attempt 2.
      expect((await store.claim('q', 10, 10)).map((j) => [j.id, j.attempt])).toEqual([[now, 2]]);
      // The delayed one once its time came and promote moved it.
      const retried = await waitFor('the delayed retry to be promoted and claimed', async () => {
        await store.promote('q', 10);
        return (await store.claim('q', 10, 10))[0];
      });
      expect([retried.id, retried.attempt]).toEqual([later, 2]);
      // The spent tokens apply nothing.
      expect(await store.fail([{ ...lease(a!), retryMs: 0, message: 'stale', stack: null }])).toEqual({ retried: new Set(), failed: new Set(), cancelled: new Set() });
      expect((await store.getJob('q', now))!.error!.message).toBe('first');
    });

    it('defers without counting the attempt or touching the error; a retry-later deferral is counted in retryLaters', async () => {
      const [limited, asked] = await enqueueIds([serialized({}, { attempts: 1 }), serialized({}, { attempts: 1 })]);
      const [a, b] = await store.claim('q', 2, 2);
      expect([a!.retryLaters, b!.retryLaters]).toEqual([0, 0]);
      await store.fail([{ ...lease(a!), retryMs: 0, message: 'earlier', stack: null }]);
      const [again] = await store.claim('q', 1, 1);
      expect(again!.id).toBe(limited);
      const outcome = await store.fail([
        { ...lease(again!), retryMs: 0, message: 'budget spent', stack: null, deferred: 'rate-limited' },
        { ...lease(b!), retryMs: 0, message: 'not yet', stack: null, deferred: 'retry-later' },
      ]);
      expect(outcome.retried).toEqual(new Set([again!.ref, b!.ref]));
      // The deferred attempt is given back; the error of the earlier real failure stays.
      expect(await store.getJob('q', limited!)).toMatchObject({ state: 'waiting', attemptsMade: 1, error: { message: 'earlier' } });
      expect(await store.getJob('q', asked!)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
      expect((await store.getJob('q', asked!))!.error).toBeUndefined();
      const claimed = await store.claim('q', 2, 2);
      expect(claimed.map((j) => [j.id, j.attempt, j.retryLaters])).toEqual([
        [limited, 2, 0],
        [asked, 1, 1],
      ]);
    });

    it('removes a job failed for good when removeOnFail is true (still reported as failed)', async () => {
      const id = await enqueueOne({}, { removeOnFail: true });
      const [job] = await store.claim('q', 1, 1);
      expect(await store.fail([{ ...lease(job!), retryMs: null, message: 'boom', stack: null }])).toEqual({ retried: new Set(), failed: new Set([job!.ref]), cancelled: new Set() });
      expect(await store.getJob('q', id)).toBeUndefined();
      expect(await store.counts('q')).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0 });
    });

    it('stores messages and stacks stripped of NUL characters and bounded in length', async () => {
      const [nul, long] = await enqueueIds([serialized({}), serialized({})]);
      const [x, y] = await store.claim('q', 2, 2);
      const outcome = await store.fail([
        { ...lease(x!), retryMs: null, message: 'bad\u0000byte\u0000', stack: 'Error\u0000: bad\n    at x' },
        { ...lease(y!), retryMs: null, message: 'm'.repeat(5000), stack: 's'.repeat(20_000) },
      ]);
      expect(outcome.failed).toEqual(new Set([x!.ref, y!.ref]));
      expect((await store.getJob('q', nul))!.error).toEqual({ message: 'badbyte', stack: 'Error: bad\n    at x' });
      const error = (await store.getJob('q', long))!.error!;
      expect(error.message).toBe(`${'m'.repeat(3999)}…`);
      expect(error.stack).toBe(`${'s'.repeat(15_999)}…`);
    });
  });

  describe('renew', () => {
    it('extends only the leases whose token matches, and resolves to the refs it renewed', async () => {
      const [renewedId, lapsedId] = await enqueueIds([serialized({}, { leaseMs: 300 }), serialized({}, { leaseMs: 300 })]);
      const [kept, lapsed] = await store.claim('q', 2, 2);
      expect(await renewedRefs([{ ...lease(kept!), started: true }, { ref: lapsed!.ref, token: randomUUID(), started: true }])).toEqual(new Set([kept!.ref]));
      // Both leases began in one statement; renewing one keeps pushing its end, so only the other runs out.
      const reaped = await waitFor('the unrenewed lease to run out', async () => {
        expect(await renewedRefs([{ ...lease(kept!), started: true }])).toEqual(new Set([kept!.ref]));
        const found = await store.reap('q', 10, 5);
        return found.length > 0 ? found : undefined;
      });
      expect(reaped!.map((r) => r.id)).toEqual([lapsedId]);
      expect(await store.getJob('q', renewedId)).toMatchObject({ state: 'active' });
      expect(await renewedRefs([{ ...lease(kept!), started: true }, { ...lease(lapsed!), started: true }])).toEqual(new Set([kept!.ref]));
      // A finished job's lease is gone too.
      await store.complete([{ ...lease(kept!), resultJson: null }]);
      expect(await renewedRefs([{ ...lease(kept!), started: true }])).toEqual(new Set());
    });

    it('marks a buffered job started when renewed with started: true, so its expiry then counts a stall', async () => {
      const [startedLater, neverStarted] = await enqueueIds([serialized({}, { leaseMs: SHORT_LEASE }), serialized({}, { leaseMs: SHORT_LEASE })]);
      // startNow 0: both claimed into a buffer, neither started.
      const [a, b] = await store.claim('q', 2, 0);
      expect(await renewedRefs([{ ...lease(a!), started: true }, { ...lease(b!), started: false }])).toEqual(new Set([a!.ref, b!.ref]));
      const reaped = await reapUntil('q', 2, 5);
      expect(reaped.find((r) => r.id === startedLater)).toMatchObject({ state: 'waiting', stalled: true });
      expect(reaped.find((r) => r.id === neverStarted)).toMatchObject({ state: 'waiting', stalled: false });
    });
  });

  describe('release', () => {
    it('hands matching leases back to waiting at once, keeping their place, their attempt not counted', async () => {
      const [first, second] = await enqueueIds([serialized({}, { attempts: 2 }), serialized({}, { attempts: 2 })]);
      const [a, b] = await store.claim('q', 2, 2);
      await store.release([lease(a!), { ref: b!.ref, token: randomUUID() }]);
      expect(await store.getJob('q', first)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
      expect(await store.getJob('q', second)).toMatchObject({ state: 'active', attemptsMade: 1 });
      const newer = await enqueueOne({});
      const next = await store.claim('q', 10, 10);
      expect(next.map((j) => [j.id, j.attempt])).toEqual([
        [first, 1],
        [newer, 1],
      ]);
      // The released lease's token is spent.
      expect(await store.complete([{ ...lease(a!), resultJson: null }])).toEqual(new Set());
      await store.release([]);
      expect(await store.counts('q')).toMatchObject({ waiting: 0, active: 3 });
    });
  });

  describe('reap', () => {
    it('returns expired jobs to waiting, their attempt given back; only started ones count a stall', async () => {
      const ids = await enqueueIds(Array.from({ length: 3 }, () => serialized({}, { leaseMs: SHORT_LEASE, attempts: 2 })));
      // The first one starts at once; the other two sit in the buffer.
      await store.claim('q', 3, 1);
      const reaped = await reapUntil('q', 3, 5);
      expect(reaped).toHaveLength(3);
      const byId = new Map(reaped.map((r) => [r.id, r]));
      expect(byId.get(ids[0]!)).toEqual({ id: ids[0], name: 'work', state: 'waiting', attemptsMade: 0, stalled: true });
      expect(byId.get(ids[1]!)).toEqual({ id: ids[1], name: 'work', state: 'waiting', attemptsMade: 0, stalled: false });
      expect(byId.get(ids[2]!)).toEqual({ id: ids[2], name: 'work', state: 'waiting', attemptsMade: 0, stalled: false });
      expect(await store.counts('q')).toMatchObject({ waiting: 3, active: 0 });
      expect((await store.claim('q', 10, 10)).map((j) => j.attempt)).toEqual([1, 1, 1]);
    });

    it('fails a started job that stalls past maxStalls, with the lease-expired error', async () => {
      const id = await enqueueOne({}, { jobId: 'stally', leaseMs: SHORT_LEASE, attempts: 5 });
      await store.claim('q', 1, 1);
      expect(await reapUntil('q', 1, 1)).toEqual([{ id, name: 'work', state: 'waiting', attemptsMade: 0, stalled: true }]);
      const [again] = await store.claim('q', 1, 1);
      expect(again!.attempt).toBe(1);
      expect(await reapUntil('q', 1, 1)).toEqual([{ id, name: 'work', state: 'failed', attemptsMade: 1, stalled: true }]);
      const info = await store.getJob('q', id);
      expect(info).toMatchObject({ state: 'failed', attemptsMade: 1, error: { message: JobLeaseExpiredError.describe(1) } });
      expect(info!.finishedAt).toBeInstanceOf(Date);
      expect(await store.counts('q')).toMatchObject({ failed: 1, active: 0, waiting: 0 });
    });

    it('with maxStalls 0, fails a started job at its first stall but returns a never-started one', async () => {
      const [started, buffered] = await enqueueIds([serialized({}, { leaseMs: SHORT_LEASE }), serialized({}, { leaseMs: SHORT_LEASE })]);
      await store.claim('q', 2, 1);
      const reaped = await reapUntil('q', 2, 0);
      expect(reaped.find((r) => r.id === started)).toMatchObject({ state: 'failed', stalled: true, attemptsMade: 1 });
      expect(reaped.find((r) => r.id === buffered)).toMatchObject({ state: 'waiting', stalled: false, attemptsMade: 0 });
      expect((await store.getJob('q', started))!.error!.message).toBe(JobLeaseExpiredError.describe(0));
    });

    it('returns nothing for a lease that has not run out, and at most `limit` of those that have', async () => {
      const live = await enqueueOne({});
      await store.claim('q', 1, 1);
      expect(await store.reap('q', 10, 5)).toEqual([]);
      expect((await store.getJob('q', live))!.state).toBe('active');

      await store.enqueue(Array.from({ length: 3 }, () => serialized({}, { leaseMs: SHORT_LEASE, queue: 'short' })));
      await store.claim('short', 3, 3);
      const firstBatch = await waitFor('expired leases to be reaped', async () => {
        const found = await store.reap('short', 2, 5);
        return found.length > 0 ? found : undefined;
      });
      expect(firstBatch).toHaveLength(2);
      expect(await store.reap('short', 2, 5)).toHaveLength(1);
      expect(await store.reap('short', 2, 5)).toEqual([]);
      expect((await store.getJob('q', live))!.state).toBe('active');
    });

    it('takes the job from its lost owner: writes with the old token are not applied after a reap and a new claim', async () => {
      const id = await enqueueOne({}, { leaseMs: SHORT_LEASE, attempts: 3, removeOnComplete: false });
      const [old] = await store.claim('q', 1, 1);
      await reapUntil('q', 1, 5);
      const [current] = await store.claim('q', 1, 1);
      expect(current!.ref).toBe(old!.ref);
      expect(current!.token).not.toBe(old!.token);
      expect(await store.complete([{ ...lease(old!), resultJson: '"old"' }])).toEqual(new Set());
      expect(await store.fail([{ ...lease(old!), retryMs: null, message: 'old', stack: null }])).toEqual({ retried: new Set(), failed: new Set(), cancelled: new Set() });
      expect(await renewedRefs([{ ...lease(old!), started: true }])).toEqual(new Set());
      await store.release([lease(old!)]);
      expect(await store.getJob('q', id)).toMatchObject({ state: 'active', attemptsMade: 1 });
      expect(await store.complete([{ ...lease(current!), resultJson: '"new"' }])).toEqual(new Set([current!.ref]));
      expect((await store.getJob('q', id))!.result).toBe('new');
    });

    it('never returns one job to two concurrent reaps', async () => {
      const ids = await enqueueIds(Array.from({ length: 20 }, () => serialized({}, { leaseMs: SHORT_LEASE })));
      await store.claim('q', 20, 20);
      const seen: string[] = [];
      await waitFor('every expired job to be reaped', async () => {
        const batches = await Promise.all(Array.from({ length: 4 }, () => store.reap('q', 100, 5)));
        seen.push(...batches.flat().map((r) => r.id));
        return seen.length >= 20;
      });
      expect(seen.sort()).toEqual([...ids].sort());
    });

    if (flavor === 'postgres') {
      it('gets nothing, without waiting, while another process reaps the queue', async () => {
        const id = await enqueueOne({}, { leaseMs: SHORT_LEASE });
        await store.claim('q', 1, 1);
        const expired = async () =>
          (await db.query<{ expired: boolean }>(`SELECT locked_until < now() AS expired FROM ${quoteIdentifier(schema)}.queue_jobs WHERE id = $1`, [id])).rows[0]!.expired;
        await waitFor('the lease to run out', expired);
        const other = await serverSession();
        await other.query('BEGIN');
        // The reaper's try-lock for this schema and queue, as another process's reap holds it.
        await other.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [BALLAST_LOCK_CLASS, `queue-reap:${schema}:q`]);
        expect(await within(store.reap('q', 10, 5), 3000, 'a reap while another holds the lock')).toEqual([]);
        await other.query('ROLLBACK');
        expect((await store.reap('q', 10, 5)).map((r) => r.id)).toEqual([id]);
      });
    }
  });

  describe('promote', () => {
    it('makes due delayed jobs claimable and resolves to the ms until the next delayed job, or null', async () => {
      expect(await store.promote('q', 10)).toBeNull();
      const soon = await enqueueOne({ n: 'soon' }, { runAt: Date.now() + 500 });
      const far = await enqueueOne({ n: 'far' }, { runAt: Date.now() + 60_000 });
      const wait = await store.promote('q', 10);
      expect(typeof wait).toBe('number');
      expect(wait!).toBeGreaterThan(0);
      expect(wait!).toBeLessThanOrEqual(500);
      // Due by the clock, it reads as waiting, but a claim takes it only once promote has moved it.
      await waitFor('the soon job to come due', async () => (await store.getJob('q', soon))!.state === 'waiting');
      expect(await store.claim('q', 10, 10)).toEqual([]);
      const next = await store.promote('q', 10);
      expect(next!).toBeGreaterThan(50_000);
      expect(next!).toBeLessThanOrEqual(60_000);
      expect((await store.claim('q', 10, 10)).map((j) => j.id)).toEqual([soon]);
      expect(await store.remove('q', far)).toBe(true);
      expect(await store.promote('q', 10)).toBeNull();
    });

    it('moves at most `limit`, and does not report null while due delayed jobs remain', async () => {
      const at = Date.now() + 100;
      // Distinct due times, so which two a limit of 2 moves is defined: the earliest.
      const ids = await enqueueIds(Array.from({ length: 3 }, (_, i) => serialized({ i }, { runAt: at + i })));
      await waitFor('the delayed jobs to come due', async () => (await store.counts('q')).waiting === 3);
      const next = await store.promote('q', 2);
      expect((await store.claim('q', 10, 10)).map((j) => j.id)).toEqual(ids.slice(0, 2));
      // One due delayed job is left: the next one is due now, not "none".
      expect(next).not.toBeNull();
      expect(next!).toBeLessThanOrEqual(0);
      await store.promote('q', 2);
      expect((await store.claim('q', 10, 10)).map((j) => j.id)).toEqual(ids.slice(2));
    });
  });

  describe('prune', () => {
    it('count rule: deletes finished jobs beyond their kept count, oldest first, at most `limit`, and returns how many', async () => {
      const ids = await enqueueIds(Array.from({ length: 4 }, (_, i) => serialized({ i }, { removeOnComplete: 1 })));
      const claimed = await store.claim('q', 4, 4);
      // One completion per statement, so they finish in order.
      for (const job of claimed) expect(await store.complete([{ ...lease(job), resultJson: null }])).toEqual(new Set([job.ref]));
      expect(await store.prune('age', 100)).toBe(0);
      expect(await store.prune('count', 2)).toBe(2);
      expect(await store.prune('count', 2)).toBe(1);
      expect(await store.prune('count', 2)).toBe(0);
      for (const id of ids.slice(0, 3)) expect(await store.getJob('q', id)).toBeUndefined();
      expect((await store.getJob('q', ids[3]!))!.state).toBe('completed');
    });

    it('age rule: deletes finished jobs once their age has passed, and no others', async () => {
      const [quick, slow, forever] = await enqueueIds([
        serialized({}, { removeOnFail: { age: 100 } }),
        serialized({}, { removeOnFail: { age: 60_000 } }),
        serialized({}, { removeOnFail: false }),
      ]);
      const claimed = await store.claim('q', 3, 3);
      const outcome = await store.fail(claimed.map((job) => ({ ...lease(job), retryMs: null, message: 'x', stack: null })));
      expect(outcome.failed.size).toBe(3);
      let deleted = 0;
      await waitFor('the short-lived failed job to be pruned', async () => {
        deleted += await store.prune('age', 100);
        return deleted >= 1;
      });
      expect(deleted).toBe(1);
      expect(await store.getJob('q', quick)).toBeUndefined();
      expect((await store.getJob('q', slow))!.state).toBe('failed');
      expect((await store.getJob('q', forever))!.state).toBe('failed');
      expect(await store.prune('age', 100)).toBe(0);
      expect(await store.prune('count', 100)).toBe(0);
    });
  });

  describe('getJob and counts', () => {
    it('reports a job by its public id, within its queue only', async () => {
      const before = Date.now();
      const keyed = await enqueueOne({ a: [1, 'two'] }, { jobId: 'report-1', priority: 3, attempts: 2, name: 'reporter' });
      const generated = await enqueueOne({});
      const info = await store.getJob('q', keyed);
      expect(info).toEqual({
        id: 'report-1',
        queue: 'q',
        name: 'reporter',
        data: { a: [1, 'two'] },
        state: 'waiting',
        priority: 3,
        attemptsMade: 0,
        maxAttempts: 2,
        createdAt: expect.any(Date),
        runAt: expect.any(Date),
      });
      expect(Math.abs(info!.createdAt.getTime() - before)).toBeLessThan(10_000);
      expect((await store.getJob('q', generated))!.id).toBe(generated);
      expect(await store.getJob('other', keyed)).toBeUndefined();
      expect(await store.getJob('q', 'no-such-key')).toBeUndefined();
      expect(await store.getJob('q', String(Number(generated) + 1000))).toBeUndefined();
    });

    it('counts jobs per state, per queue', async () => {
      expect(await store.counts('q')).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0 });
      const [activeOne, completedOne, failedOne] = await enqueueIds([
        serialized({}, { removeOnComplete: false }),
        serialized({}, { removeOnComplete: false }),
        serialized({}),
      ]);
      const claimed = await store.claim('q', 3, 3);
      expect(claimed.map((j) => j.id)).toEqual([activeOne, completedOne, failedOne]);
      await store.complete([{ ...lease(claimed[1]!), resultJson: null }]);
      await store.fail([{ ...lease(claimed[2]!), retryMs: null, message: 'x', stack: null }]);
      await store.enqueue([serialized({}), serialized({}), serialized({}, { runAt: Date.now() + 60_000 }), serialized({}, { queue: 'other' })]);
      expect(await store.counts('q')).toEqual({ waiting: 2, delayed: 1, active: 1, completed: 1, failed: 1, cancelled: 0 });
      expect(await store.counts('other')).toEqual({ waiting: 1, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0 });
    });
  });

  describe('retry and retryFailed', () => {
    it('retry moves one failed job back to waiting with a fresh attempt budget; false when it is not failed', async () => {
      const id = await enqueueOne({}, { jobId: 'again', attempts: 2 });
      const waiting = await enqueueOne({}, { priority: 5 });
      const [job] = await store.claim('q', 1, 1);
      await store.fail([{ ...lease(job!), retryMs: null, message: 'broken', stack: 'Error: broken' }]);
      expect(await store.retry('q', waiting)).toBe(false);
      expect(await store.retry('other', id)).toBe(false);
      expect(await store.retry('q', 'absent')).toBe(false);
      expect(await store.retry('q', id)).toBe(true);
      const info = await store.getJob('q', id);
      expect(info).toMatchObject({ state: 'waiting', attemptsMade: 0, maxAttempts: 2 });
      expect(info).not.toHaveProperty('error');
      expect(info).not.toHaveProperty('finishedAt');
      expect(await store.retry('q', id)).toBe(false);
      const [again] = await store.claim('q', 1, 1);
      expect(again).toMatchObject({ id, attempt: 1, maxAttempts: 2 });
    });

    it('retryFailed moves at most `limit` per call, and jobs failing after the cutoff stay failed', async () => {
      const ids = await enqueueIds(Array.from({ length: 3 }, (_, i) => serialized({ i })));
      const failAll = async (jobs: LeasedJob[]) => store.fail(jobs.map((job) => ({ ...lease(job), retryMs: null, message: 'x', stack: null })));
      await failAll(await store.claim('q', 3, 3));
      expect((await store.counts('q')).failed).toBe(3);

      const first = await store.retryFailed('q', 2, null);
      expect(first.moved).toBe(2);
      expect(typeof first.cutoff).toBe('string');
      // The two moved jobs run and fail again, and a new job fails: all after the cutoff.
      const fresh = await enqueueOne({ fresh: true });
      const rerun = await store.claim('q', 10, 10);
      expect(rerun).toHaveLength(3);
      expect(rerun.map((j) => j.id)).toContain(fresh);
      await failAll(rerun);

      const second = await store.retryFailed('q', 2, first.cutoff);
      expect(second.moved).toBe(1);
      expect(second.cutoff).toBe(first.cutoff);
      const movedBack = (await store.claim('q', 10, 10)).map((j) => j.id);
      expect(movedBack).toHaveLength(1);
      expect(ids).toContain(movedBack[0]);
      expect(rerun.map((j) => j.id)).not.toContain(movedBack[0]);
      expect(await store.retryFailed('q', 2, first.cutoff)).toEqual({ moved: 0, cutoff: first.cutoff });
      expect((await store.counts('q')).failed).toBe(3);
      // A fresh call (no cutoff) takes them all.
      expect((await store.retryFailed('q', 10, null)).moved).toBe(3);
      expect(await store.counts('q')).toMatchObject({ failed: 0, waiting: 3 });
    });
  });

  describe('remove', () => {
    it('deletes a job that is not active; false for a running or absent one', async () => {
      const [running, failed] = await enqueueIds([serialized({}, { jobId: 'running' }), serialized({}, { jobId: 'failing' })]);
      const [job, failing] = await store.claim('q', 2, 2);
      expect([job!.id, failing!.id]).toEqual([running, failed]);
      await store.fail([{ ...lease(failing!), retryMs: null, message: 'x', stack: null }]);
      const [waiting, delayed] = await enqueueIds([serialized({}), serialized({}, { runAt: Date.now() + 60_000 })]);
      expect(await store.remove('q', running)).toBe(false);
      expect((await store.getJob('q', running))!.state).toBe('active');
      expect(await store.remove('q', 'absent')).toBe(false);
      expect(await store.remove('other', failed)).toBe(false);
      for (const id of [waiting, delayed, failed]) expect(await store.remove('q', id)).toBe(true);
      for (const id of [waiting, delayed, failed]) expect(await store.getJob('q', id)).toBeUndefined();
      expect(await store.remove('q', waiting)).toBe(false);
      expect(await store.counts('q')).toEqual({ waiting: 0, delayed: 0, active: 1, completed: 0, failed: 0, cancelled: 0 });
    });
  });

  describe('cancel', () => {
    it('ends a waiting or delayed job cancelled at once, by its failed-job retention; finished or absent jobs are left', async () => {
      const [waiting, delayed, dropped, done] = await enqueueIds([
        serialized({}, { queue: 'c', removeOnComplete: false }),
        serialized({}, { queue: 'c', runAt: Date.now() + 60_000, jobId: 'later' }),
        serialized({}, { queue: 'c', removeOnFail: true }),
        serialized({}, { queue: 'c' }),
      ]);
      const [claimed] = await store.claim('c', 1, 1);
      expect(claimed!.id).toBe(waiting);
      await store.complete([{ ...lease(claimed!), resultJson: null }]);
      // `waiting` is now completed: the next waiting job is the one to cancel.
      const [fresh] = await enqueueIds([serialized({}, { queue: 'c', dedupe: { mode: 'throttle', key: 'k', forMs: 60_000 } })]);
      expect(await store.cancel('c', fresh!)).toBe('cancelled');
      expect(await store.cancel('c', delayed!)).toBe('cancelled');
      expect(await store.cancel('c', dropped!)).toBe('cancelled');
      expect(await store.cancel('c', waiting!)).toBe('finished');
      expect(await store.cancel('c', fresh!)).toBe('finished');
      expect(await store.cancel('c', 'absent')).toBe('missing');
      expect(await store.cancel('other', delayed!)).toBe('missing');
      expect(await store.getJob('c', dropped!)).toBeUndefined();
      expect(await store.getJob('c', delayed!)).toMatchObject({ state: 'cancelled', finishedAt: expect.any(Date) });
      expect(await store.counts('c')).toMatchObject({ waiting: 1, delayed: 0, completed: 1, cancelled: 2 });
      // Nothing cancelled is claimed, and a cancelled job leaves its throttle key for the next add.
      expect((await store.claim('c', 10, 10)).map((j) => j.id)).toEqual([done]);
      const [again] = await store.enqueue([serialized({}, { queue: 'c', dedupe: { mode: 'throttle', key: 'k', forMs: 60_000 } })]);
      expect(again!.outcome).toBe('created');
      // Cancelled jobs list newest first and are removed on request.
      expect((await store.list('c', checkJobListOptions({ state: 'cancelled' }))).jobs.map((j) => j.id)).toEqual([delayed, fresh]);
      expect(await store.remove('c', fresh!)).toBe(true);
    });

    it('marks a running job and signals its worker; its failure then ends it cancelled, never retried, with the error it gave', async () => {
      const seen: JobSignal[] = [];
      const stop = await wakeup.listen((signal) => seen.push(signal));
      cleanups.push(() => stop());
      const [id, kept] = await enqueueIds([serialized({}, { attempts: 5 }), serialized({}, { attempts: 5, removeOnFail: true })]);
      const [job, dropped] = await store.claim('q', 2, 2);
      expect(await store.cancel('q', id!)).toBe('cancelling');
      expect(await store.cancel('q', kept!)).toBe('cancelling');
      await waitFor('both cancel signals', () => seen.filter((s) => s.kind === 'cancel').length === 2);
      expect(seen.filter((s) => s.kind === 'cancel')).toEqual([
        { kind: 'cancel', queue: 'q', ref: job!.ref },
        { kind: 'cancel', queue: 'q', ref: dropped!.ref },
      ]);
      // Still running until its worker ends the attempt; a renewal tells a worker that missed the signal.
      expect(await store.getJob('q', id!)).toMatchObject({ state: 'active' });
      expect(await store.renew([{ ...lease(job!), started: true }])).toEqual({ renewed: new Set([job!.ref]), cancelled: new Set([job!.ref]) });
      const outcome = await store.fail([
        { ...lease(job!), retryMs: 100, message: 'stopped', stack: null },
        { ...lease(dropped!), retryMs: 100, message: 'stopped', stack: null },
      ]);
      expect(outcome).toEqual({ retried: new Set(), failed: new Set(), cancelled: new Set([job!.ref, dropped!.ref]) });
      expect(await store.getJob('q', id!)).toMatchObject({ state: 'cancelled', attemptsMade: 1, error: { message: 'stopped' } });
      expect(await store.getJob('q', kept!)).toBeUndefined();
      expect(await store.cancel('q', id!)).toBe('finished');
    });

    if (flavor === 'postgres') {
      it('a failure that races a cancel ends the job cancelled, whether it had a retry left, none, or keeps no failed jobs', async () => {
        const [retry, last, dropped] = await enqueueIds([
          serialized({}, { attempts: 3 }),
          serialized({}, { attempts: 1 }),
          serialized({}, { attempts: 1, removeOnFail: true }),
        ]);
        const claimed = await store.claim('q', 3, 3);
        // The cancel holds the rows (what `cancel` does to a running job) while the failure is written.
        const other = await serverSession();
        await other.query('BEGIN');
        await other.query(`UPDATE ${quoteIdentifier(schema)}.queue_jobs SET cancel_requested = true WHERE id = ANY($1::bigint[])`, [claimed.map((j) => j.ref)]);
        let settled = false;
        const failing = store
          .fail(claimed.map((job, i) => ({ ...lease(job), retryMs: i === 0 ? 0 : null, message: 'boom', stack: null })))
          .finally(() => (settled = true));
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(settled).toBe(false);
        await other.query('COMMIT');
        const outcome = await failing;
        expect(outcome).toEqual({ retried: new Set(), failed: new Set(), cancelled: new Set(claimed.map((j) => j.ref)) });
        expect(await store.getJob('q', retry!)).toMatchObject({ state: 'cancelled', error: { message: 'boom' } });
        expect(await store.getJob('q', last!)).toMatchObject({ state: 'cancelled' });
        expect(await store.getJob('q', dropped!)).toBeUndefined();
        expect(await store.counts('q')).toMatchObject({ active: 0, waiting: 0, cancelled: 2 });
      });
    }

    it('a cancelled running job whose worker died or handed it back ends cancelled, not waiting', async () => {
      const [reaped, released] = await enqueueIds([serialized({}, { leaseMs: SHORT_LEASE }), serialized({}, { leaseMs: 60_000 })]);
      const [a, b] = await store.claim('q', 2, 2);
      expect(await store.cancel('q', reaped!)).toBe('cancelling');
      expect(await store.cancel('q', released!)).toBe('cancelling');
      await store.release([lease(b!)]);
      expect(await store.getJob('q', released!)).toMatchObject({ state: 'cancelled' });
      const [back] = await reapUntil('q', 1, 5);
      expect(back).toMatchObject({ id: reaped, state: 'cancelled' });
      expect(await store.getJob('q', reaped!)).toMatchObject({ state: 'cancelled', attemptsMade: 1 });
      expect(await store.claim('q', 10, 10)).toEqual([]);
      expect(await store.renew([{ ...lease(a!), started: true }])).toEqual({ renewed: new Set(), cancelled: new Set() });
    });
  });

  describe('progress', () => {
    it('stores the latest progress of a running job while its token matches, and getJob reports it', async () => {
      const id = await enqueueOne({}, { removeOnComplete: false });
      expect((await store.getJob('q', id))!.progress).toBeUndefined();
      const [job] = await store.claim('q', 1, 1);
      expect(await store.progress(lease(job!), '10')).toBe(true);
      expect(await store.progress(lease(job!), '{"step": "two"}')).toBe(true);
      expect((await store.getJob('q', id))!.progress).toEqual({ step: 'two' });
      expect(await store.progress({ ref: job!.ref, token: randomUUID() }, '99')).toBe(false);
      await store.complete([{ ...lease(job!), resultJson: null }]);
      // Kept with the finished job; a write after the outcome is not applied.
      expect(await store.progress(lease(job!), '100')).toBe(false);
      expect(await store.getJob('q', id)).toMatchObject({ state: 'completed', progress: { step: 'two' } });
    });
  });

  describe('list', () => {
    /** A request as `QueueService.getJobs` checks and hands it on. */
    const query = (state: JobState, limit: number, cursor?: string) => checkJobListOptions(cursor === undefined ? { state, limit } : { state, limit, cursor });
    /** Every page of `state`, `limit` at a time, as ids. */
    const allPages = async (queue: string, state: JobState, limit: number) => {
      const pages: string[][] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await store.list(queue, query(state, limit, cursor));
        pages.push(page.jobs.map((job) => job.id));
        if (page.next === undefined) return pages;
        cursor = page.next;
        if (pages.length > 50) throw new Error('paging did not end');
      }
    };

    it('pages waiting jobs in claim order (due delayed ones included), not shifted by jobs that leave or arrive meanwhile', async () => {
      await store.pause('q');
      const ids = await enqueueIds([
        serialized({}, { priority: 2 }),
        serialized({}, { priority: 0 }),
        serialized({}, { priority: 1 }),
        serialized({}, { priority: 0 }),
      ]);
      const [due] = await enqueueIds([serialized({}, { priority: 1, runAt: Date.now() + 300 })]);
      await waitFor('the delayed job to be due', async () => (await store.getJob('q', due!))!.state === 'waiting');
      const first = await store.list('q', query('waiting', 2));
      expect(first.jobs.map((j) => j.id)).toEqual([ids[1], ids[3]]);
      // Jobs of the first page that go away do not shift the next page (an offset would skip one);
      // a job added since sorts after the cursor, so it is on a later page, in its place.
      expect(await store.remove('q', ids[1]!)).toBe(true);
      const [added] = await enqueueIds([serialized({}, { priority: 0 })]);
      const rest = await store.list('q', query('waiting', 10, first.next));
      expect(rest.jobs.map((j) => j.id)).toEqual([added, ids[2], due, ids[0]]);
      expect(rest.jobs.every((j) => j.state === 'waiting')).toBe(true);
      expect(rest.next).toBeUndefined();
    });

    it('pages finished jobs newest first and delayed or active ones by run time, each state apart', async () => {
      const ids = await enqueueIds(Array.from({ length: 5 }, (_, i) => serialized({ i }, { removeOnComplete: false })));
      for (const job of await store.claim('q', 5, 5)) {
        await store.complete([{ ...lease(job), resultJson: `${job.id}` }]);
      }
      expect((await allPages('q', 'completed', 2)).flat()).toEqual([...ids].reverse());
      expect(await allPages('q', 'completed', 2)).toHaveLength(3);
      const [late, soon] = await enqueueIds([serialized({}, { runAt: Date.now() + 120_000 }), serialized({}, { runAt: Date.now() + 60_000 })]);
      expect(await allPages('q', 'delayed', 1)).toEqual([[soon], [late]]);
      expect(await allPages('q', 'failed', 10)).toEqual([[]]);
      expect(await allPages('other', 'completed', 10)).toEqual([[]]);
      const [running] = await enqueueIds([serialized({})]);
      await store.claim('q', 1, 1);
      expect(await allPages('q', 'active', 10)).toEqual([[running]]);
    });

    it('refuses a cursor key that is not one it wrote, before it reaches SQL', async () => {
      const forged = (state: JobState, key: string[]) => Buffer.from(JSON.stringify([state, ...key])).toString('base64url');
      await expect(store.list('q', query('waiting', 1, forged('waiting', ['1', 'x; DROP TABLE', '1'])))).rejects.toThrow(InvalidJobOptionError);
      await expect(store.list('q', query('failed', 1, forged('failed', ['only-one'])))).rejects.toThrow(InvalidJobOptionError);
    });
  });

  describe('schedules', () => {
    /** A schedule of job `tick` on queue `q`, first due at `firstRunAt` (in the past: due now). */
    const schedule = (id: string, timing: JobSchedule, firstRunAt: number, source: 'code' | 'api' = 'api'): NewSchedule => ({
      ...toNewSchedule(id, 'q', 'tick', timing, {}, moduleJobDefaults(30_000), source, Date.now()),
      firstRunAt,
    });
    const silent = { warn: () => undefined, log: () => undefined };
    const scheduler = () => new JobStoreScheduler(store, { pollIntervalMs: 1000, scheduleBatchSize: 2 }, new OutageLog(silent, 'test'));

    it('enqueues a due tick once however many callers race with the same due time, the job carrying its tick', async () => {
      const now = Date.now();
      await store.upsertSchedules([schedule('race', { every: 1000, data: { n: 1 } }, now - 5_000)]);
      const { due, nowMs } = await store.dueSchedules(10);
      expect(due).toEqual([expect.objectContaining({ id: 'race', timing: { kind: 'every', everyMs: 1000 }, catchUp: 'last', dueMs: now - 5_000 })]);
      const tick = Math.floor(nowMs / 1000) * 1000;
      // The next due time far enough ahead that a slow run cannot find it due by the last check.
      const advance = { id: 'race', due: due[0]!.due, tick, next: tick + 60_000 };
      const enqueued = await Promise.all(Array.from({ length: 4 }, () => store.advanceSchedules([advance])));
      expect(enqueued.reduce((a, b) => a + b, 0)).toBe(1);
      const claimed = await store.claim('q', 10, 10);
      expect(claimed).toHaveLength(1);
      expect(claimed[0]).toMatchObject({ name: 'tick', scheduledFor: tick });
      expect(JSON.parse(claimed[0]!.json)).toEqual({ n: 1 });
      expect((await store.dueSchedules(10)).due).toEqual([]);
      expect((await store.listSchedules('q'))[0]!.nextRunAt).toEqual(new Date(tick + 60_000));
    });

    it('a pass folds ticks missed while down into one (catchUp last) or none (catchUp none), in batches', async () => {
      const threeHoursAgo = Date.now() - 3 * 3600_000;
      await store.upsertSchedules([
        schedule('last-1', { cron: '0 * * * *', data: 'last' }, threeHoursAgo),
        schedule('last-2', { cron: '0 * * * *', data: 'last' }, threeHoursAgo),
        schedule('none-1', { cron: '0 * * * *', data: 'none', catchUp: 'none' }, threeHoursAgo),
      ]);
      const { enqueued, waitMs } = await scheduler().runOnce();
      expect(enqueued).toBe(2);
      expect(waitMs).toBeGreaterThan(0);
      expect(waitMs).toBeLessThanOrEqual(3600_000);
      const claimed = await store.claim('q', 10, 10);
      const lastHour = Math.floor(Date.now() / 3600_000) * 3600_000;
      expect(claimed.map((job) => [JSON.parse(job.json), job.scheduledFor])).toEqual([
        ['last', lastHour],
        ['last', lastHour],
      ]);
      for (const info of await store.listSchedules('q')) expect(info.nextRunAt).toEqual(new Date(lastHour + 3600_000));
      expect(await scheduler().runOnce()).toEqual({ enqueued: 0, waitMs: expect.any(Number) });
    });

    it('nextScheduleWait: null without schedules (a scheduler then sleeps its poll interval), 0 for a due one, else the ms to go', async () => {
      expect(await store.nextScheduleWait()).toBeNull();
      const silent = { warn: () => undefined, log: () => undefined };
      expect(await new JobStoreScheduler(store, { pollIntervalMs: 1000, scheduleBatchSize: 10 }, new OutageLog(silent, 'test')).runOnce()).toEqual({ enqueued: 0, waitMs: null });
      await store.upsertSchedules([schedule('soon', { every: 60_000 }, Date.now() + 30_000)]);
      const wait = await store.nextScheduleWait();
      expect(wait).toBeGreaterThan(25_000);
      expect(wait).toBeLessThanOrEqual(30_000);
      await store.upsertSchedules([schedule('due', { every: 60_000 }, Date.now() - 1000)]);
      expect(await store.nextScheduleWait()).toBe(0);
    });

    it('upsert keeps the next due time unless the timing changed; reconcile deletes only code schedules of handlers it was told of', async () => {
      const later = Date.now() + 3600_000;
      await store.upsertSchedules([schedule('keep', { every: 60_000 }, later)]);
      await store.upsertSchedules([schedule('keep', { every: 60_000, data: { v: 2 } }, later + 5_000)]);
      expect(await store.listSchedules('q')).toEqual([expect.objectContaining({ id: 'keep', data: { v: 2 }, nextRunAt: new Date(later) })]);
      await store.upsertSchedules([schedule('keep', { every: 30_000 }, later + 5_000)]);
      expect((await store.listSchedules(undefined))[0]!.nextRunAt).toEqual(new Date(later + 5_000));

      await store.upsertSchedules([schedule('job:q:a', { every: 1000 }, later, 'code'), schedule('job:q:b', { every: 1000 }, later, 'code')]);
      await store.upsertSchedules([schedule('job:q:other-service', { every: 1000 }, later, 'code')]);
      // Two replicas at once: both succeed, taking turns; 'b' lost its schedule in the code.
      const handled = ['job:q:a', 'job:q:b'];
      const removed = await Promise.all([
        store.reconcileSchedules(handled, [schedule('job:q:a', { every: 2000 }, later, 'code')]),
        store.reconcileSchedules(handled, [schedule('job:q:a', { every: 2000 }, later, 'code')]),
      ]);
      expect(removed.flat()).toEqual(['job:q:b']);
      expect((await store.listSchedules('q')).map((s) => [s.id, s.every])).toEqual([
        ['job:q:a', 2000],
        ['job:q:other-service', 1000],
        ['keep', 30_000],
      ]);
      expect(await store.removeSchedule('keep')).toBe(true);
      expect(await store.removeSchedule('keep')).toBe(false);
      expect(await store.nextScheduleWait()).toBeGreaterThan(0);
    });
  });

  describe('wakeup', () => {
    it('after listen resolves, signals ready on enqueue (only once committed) and paused on pause; stop ends it', async () => {
      const seen: JobSignal[] = [];
      const stop = await wakeup.listen((signal) => seen.push(signal));
      let stopped = false;
      cleanups.push(async () => {
        if (!stopped) await stop();
      });

      await enqueueOne({});
      await waitFor('a ready signal for the enqueue', () => seen.some((s) => s.kind === 'ready' && s.queue === 'q'));
      expect(seen.find((s) => s.queue === 'q')).toEqual({ kind: 'ready', queue: 'q', waitMs: 0 });

      await store.enqueue([serialized({}, { queue: 'later', runAt: Date.now() + 5000 }), serialized({}, { queue: 'later', runAt: Date.now() + 9000 })]);
      const later = await waitFor('a ready signal for the delayed jobs', () => seen.find((s) => s.queue === 'later'));
      // One signal per queue and statement, with the wait until its earliest new job.
      expect(later).toEqual({ kind: 'ready', queue: 'later', waitMs: expect.any(Number) });
      const { waitMs } = later as { waitMs: number };
      expect(waitMs).toBeGreaterThan(3000);
      expect(waitMs).toBeLessThanOrEqual(5000);

      await expect(
        db.transaction(async (tx) => {
          await store.enqueue([serialized({}, { queue: 'rolled-back' })], tx);
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      await db.transaction((tx) => store.enqueue([serialized({}, { queue: 'committed' })], tx));
      await waitFor('a ready signal for the committed transaction', () => seen.some((s) => s.queue === 'committed'));

      await store.pause('q');
      await waitFor('a paused signal', () => seen.some((s) => s.kind === 'paused'));
      expect(seen.filter((s) => s.kind === 'paused')).toEqual([{ kind: 'paused', queue: 'q' }]);
      expect(seen.some((s) => s.queue === 'rolled-back')).toBe(false);

      // Stopped, this listener hears nothing more; a second one, listening throughout, shows the signal was sent.
      const witness: JobSignal[] = [];
      const stopWitness = await wakeup.listen((signal) => witness.push(signal));
      cleanups.push(() => stopWitness());
      await stop();
      stopped = true;
      const heard = seen.length;
      await store.resume('q');
      await enqueueOne({}, { queue: 'after-stop' });
      await waitFor('the witness to hear the signals sent after stop', () => witness.some((s) => s.queue === 'after-stop'));
      expect(witness.some((s) => s.kind === 'ready' && s.queue === 'q')).toBe(true);
      expect(seen).toHaveLength(heard);
    });

    it('signals ready for every write that readies jobs: fail with retry, release, reap, promote, retry, resume', async () => {
      const seen: JobSignal[] = [];
      const stop = await wakeup.listen((signal) => seen.push(signal));
      cleanups.push(() => stop());
      const readyFor = (queue: string) => seen.filter((s) => s.kind === 'ready' && s.queue === queue).length;
      const expectReady = async (queue: string, write: () => Promise<unknown>) => {
        const before = readyFor(queue);
        await write();
        await waitFor(`a ready signal for ${queue}`, () => readyFor(queue) > before);
        expect(seen.filter((s) => s.kind === 'ready' && s.queue === queue).at(-1)).toEqual({ kind: 'ready', queue, waitMs: 0 });
      };

      const due = Date.now() + 100;
      const [, , , , failedId] = await enqueueIds([
        serialized({}, { queue: 'f', attempts: 2 }),
        serialized({}, { queue: 'rel' }),
        serialized({}, { queue: 'reap', leaseMs: SHORT_LEASE }),
        serialized({}, { queue: 'due', runAt: due }),
        serialized({}, { queue: 'dead' }),
      ]);
      // The enqueue's own signals first, so each one counted below comes from the write under test.
      await waitFor('the enqueue signals', () => ['f', 'rel', 'reap', 'due', 'dead'].every((queue) => readyFor(queue) === 1));

      const [f] = await store.claim('f', 1, 1);
      await expectReady('f', () => store.fail([{ ...lease(f!), retryMs: 0, message: 'x', stack: null }]));
      const [r] = await store.claim('rel', 1, 1);
      await expectReady('rel', () => store.release([lease(r!)]));
      await store.claim('reap', 1, 1);
      await expectReady('reap', () => reapUntil('reap', 1, 5));
      await waitFor('the delayed job to come due', async () => (await store.counts('due')).waiting === 1);
      await expectReady('due', () => store.promote('due', 10));
      const [d] = await store.claim('dead', 1, 1);
      await store.fail([{ ...lease(d!), retryMs: null, message: 'x', stack: null }]);
      await expectReady('dead', () => store.retry('dead', failedId!));
      await store.pause('paused');
      await expectReady('paused', () => store.resume('paused'));
    });
  });
});
