import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { JobStoreEnqueuer } from '../../lib/queue/runner/job-store.enqueuer.js';
import type { SerializedJob } from '../../lib/queue/job-store.interface.js';
import type { AddedJob } from '../../lib/queue/added-job.interface.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { waitFor } from '../support/wait-for.js';
import { newJob, openHarness, type PostgresFlavor, type QueueHarness } from './postgres-queue.harness.js';

afterAll(closeSharedPglite);

/**
 * Concurrent `add` calls share INSERT statements on Postgres. On a real server and on PGlite: each
 * call still gets exactly its own ids, idempotency keys hold across calls of one statement, and a
 * call the server rejects fails alone.
 */
describe.each(['postgres', 'pglite'] as const)('coalesced enqueue on %s', (flavor: PostgresFlavor) => {
  let h: QueueHarness;

  afterEach(async () => {
    jest.restoreAllMocks();
    await h?.close();
  });

  it('gives each of many concurrent calls its own ids and data, in fewer statements than calls', async () => {
    h = await openHarness(flavor, 'pq_coalesce');
    const statements = jest.spyOn(h.db, 'queryPrepared');
    const calls = Array.from({ length: 60 }, (_, i) =>
      h.backend.add(i % 3 === 0 ? [newJob({ call: i, part: 0 }), newJob({ call: i, part: 1 })] : [newJob({ call: i, part: 0 })]),
    );
    const results = (await Promise.all(calls)).map((added) => added.map((a) => a.id));
    const insertStatements = statements.mock.calls.length;

    results.forEach((ids, i) => expect(ids).toHaveLength(i % 3 === 0 ? 2 : 1));
    const all = results.flat();
    expect(new Set(all).size).toBe(80);
    for (const [i, ids] of results.entries()) {
      for (const [part, id] of ids.entries()) expect((await h.backend.getJob('q', id))!.data).toEqual({ call: i, part });
    }
    expect(await h.rows()).toHaveLength(80);
    expect(insertStatements).toBeLessThan(60);
  });

  it('keeps jobId idempotent across calls that share a statement', async () => {
    h = await openHarness(flavor, 'pq_coalesce_key');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => h.backend.add([newJob({ i }, { jobId: 'signup-1' })])));
    expect(results.flat().map((a) => a.id)).toEqual(Array.from({ length: 20 }, () => 'signup-1'));
    expect(await h.rows()).toHaveLength(1);
  });

  it('fails only the call the server rejects; the calls it shared a statement with are stored', async () => {
    h = await openHarness(flavor, 'pq_coalesce_bad');
    const good = Array.from({ length: 12 }, (_, i) => h.backend.add([newJob({ i })]));
    // jsonb refuses a NUL even escaped. QueueService refuses such data before it reaches the
    // backend; here it stands for any job the server refuses.
    const bad = h.backend.add([newJob({ broken: 'a\u0000b' })]);
    const more = Array.from({ length: 12 }, (_, i) => h.backend.add([newJob({ i: 12 + i })]));

    await expect(bad).rejects.toMatchObject({ code: '22P05' });
    const ids = (await Promise.all([...good, ...more])).flat().map((a) => a.id);
    expect(new Set(ids).size).toBe(24);
    expect(await h.rows()).toHaveLength(24);
  });
});

describe('JobStoreEnqueuer', () => {
  const job = (n: number): SerializedJob => {
    const job = newJob({ n });
    return { ...job, json: JSON.stringify(job.data) };
  };
  const created = (id: string): AddedJob => ({ id, outcome: 'created' });
  const idsOf = (added: AddedJob[]) => added.map((a) => a.id);

  it('sends a call at once while statements are free, and the waiting calls together after', async () => {
    const sent: number[][] = [];
    const releases: Array<() => void> = [];
    const enqueuer = new JobStoreEnqueuer(
      (jobs) => {
        sent.push(jobs.map((j) => (JSON.parse(j.json) as { n: number }).n));
        return new Promise((resolve) => releases.push(() => resolve(jobs.map((j) => created(`id-${(JSON.parse(j.json) as { n: number }).n}`)))));
      },
      2,
      3,
    );
    const calls = [1, 2, 3, 4, 5, 6].map((n) => enqueuer.add([job(n)]));
    // Two statements in flight, alone; the other four wait.
    expect(sent).toEqual([[1], [2]]);
    releases[0]!();
    // One statement freed: the next three waiting calls (the statement's cap) go together.
    await waitFor('the third statement', () => sent.length === 3);
    expect(sent).toEqual([[1], [2], [3, 4, 5]]);
    releases[1]!();
    await waitFor('the fourth statement', () => sent.length === 4);
    expect(sent).toEqual([[1], [2], [3, 4, 5], [6]]);
    releases[2]!();
    releases[3]!();
    expect((await Promise.all(calls)).map(idsOf)).toEqual([['id-1'], ['id-2'], ['id-3'], ['id-4'], ['id-5'], ['id-6']]);
  });

  it('lets callers that add again as soon as they get their ids share the next statement', async () => {
    const sent: number[] = [];
    const enqueuer = new JobStoreEnqueuer(
      async (jobs) => {
        sent.push(jobs.length);
        await new Promise((resolve) => setImmediate(resolve));
        return jobs.map(() => created('id'));
      },
      1,
      100,
    );
    // Ten callers in a loop, the way a busy app enqueues: each adds again right after its add
    // resolves, a few promise hops later (the service and deadline layers above the enqueuer).
    const layered = async (jobs: SerializedJob[]) => {
      const ids = idsOf(await enqueuer.add(jobs));
      for (let hop = 0; hop < 3; hop++) await Promise.resolve();
      return ids;
    };
    let remaining = 200;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (remaining > 0) {
          remaining -= 1;
          await layered([job(remaining)]);
        }
      }),
    );
    expect(sent.reduce((a, b) => a + b, 0)).toBe(200);
    // The first call goes alone (nothing in flight); after that every statement carries all ten
    // callers. Without waiting a turn after each statement, the first caller back would go alone
    // each time, and statements would alternate between one call and nine.
    expect(sent[0]).toBe(1);
    expect(sent.slice(2, -1).every((n) => n === 10)).toBe(true);
  });

  it('drains: resolves only once every call made so far has its answer', async () => {
    const releases: Array<() => void> = [];
    const enqueuer = new JobStoreEnqueuer((jobs) => new Promise((resolve) => releases.push(() => resolve(jobs.map(() => created('id'))))), 1, 10);
    await enqueuer.drain();
    const calls = [enqueuer.add([job(1)]), enqueuer.add([job(2)])];
    let drained = false;
    const drain = enqueuer.drain().then(() => (drained = true));
    releases[0]!();
    await calls[0];
    await waitFor('the waiting call to be sent', () => releases.length === 2);
    expect(drained).toBe(false);
    releases[1]!();
    await drain;
    expect(idsOf((await calls[1])!)).toEqual(['id']);
  });

  it('does not retry a shared statement that failed without a server answer: it may have committed', async () => {
    let inserts = 0;
    let release!: () => void;
    const enqueuer = new JobStoreEnqueuer(
      (jobs) => {
        inserts += 1;
        if (inserts === 1) return new Promise((resolve) => (release = () => resolve(jobs.map(() => created('first')))));
        return Promise.reject(Object.assign(new Error('Connection terminated unexpectedly'), { code: 'EPIPE' }));
      },
      1,
      100,
    );
    const first = enqueuer.add([job(1)]);
    const shared = [enqueuer.add([job(2)]), enqueuer.add([job(3)])];
    release();
    expect(idsOf(await first)).toEqual(['first']);
    for (const call of shared) await expect(call).rejects.toThrow('Connection terminated unexpectedly');
    expect(inserts).toBe(2);
  });
});
