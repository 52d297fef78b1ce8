import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Queue, Worker } from 'bullmq';
import { JobAbortedError, JobLeaseExpiredError, NoJobHandlerError } from '../../lib/index.js';
import type { JobContext } from '../../lib/queue/job.interface.js';
import { waitFor } from '../support/wait-for.js';
import { BullmqHarness, deferred, newJob } from './bullmq-harness.js';
import { CANCELLED_REASON } from '../../lib/drivers/bullmq/bullmq-cancelled-jobs.js';

/**
 * BullMQ workers behind the backend seam: routing by job name, option semantics seen from a
 * handler (order, delay, retries, dead letters), pause, events and shutdown, on a real Redis.
 */
describe('BullMQ queue worker', () => {
  let h: BullmqHarness;

  beforeEach(() => {
    h = new BullmqHarness();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await h.close();
  });

  it('routes each job by name to its handler with a full context, and stores the result', async () => {
    const seen: Array<{ handler: string; data: unknown; context: Omit<JobContext, 'signal'> }> = [];
    await h.startWorker('mail', {
      welcome: (data, { signal, ...context }) => {
        seen.push({ handler: 'welcome', data, context });
        expect(signal.aborted).toBe(false);
        return { sent: true };
      },
      digest: (data, { signal: _signal, ...context }) => {
        seen.push({ handler: 'digest', data, context });
        return 'ok';
      },
    });
    const [welcome, digest] = (
      await h.backend.add([
        newJob('mail', 'welcome', { to: 'a' }, { attempts: 3, removeOnComplete: false }),
        newJob('mail', 'digest', { to: 'b' }, { removeOnComplete: false }),
      ])
    ).map((a) => a.id);
    await waitFor('both jobs completed', () => h.eventsOf('completed').length === 2);

    expect(seen).toEqual([
      { handler: 'welcome', data: { to: 'a' }, context: { id: welcome, name: 'welcome', queue: 'mail', attempt: 1, maxAttempts: 3 } },
      { handler: 'digest', data: { to: 'b' }, context: { id: digest, name: 'digest', queue: 'mail', attempt: 1, maxAttempts: 1 } },
    ]);
    expect(h.eventsOf('completed', welcome)).toEqual([
      { type: 'completed', queue: 'mail', jobId: welcome, name: 'welcome', attempt: 1, result: { sent: true } },
    ]);
    const info = await h.backend.getJob('mail', welcome!);
    expect(info).toMatchObject({ state: 'completed', result: { sent: true }, attemptsMade: 1 });
    expect(info!.finishedAt).toBeInstanceOf(Date);
  });

  it('never runs a job a cancel marked while it waited, even if a worker fetches it before the cancel removes it', async () => {
    // The first half of a cancel alone: the mark on the waiting job, as if a worker fetched the job
    // right after it, before the cancel's removal. It also stands for a cancelled running job whose
    // worker died: the stall puts it back to waiting with the mark on it.
    const ran: string[] = [];
    const [{ id }] = await h.backend.add([newJob('mail', 'welcome', { to: 'a' })]);
    await h.redis.hset(`${h.keyPrefix}queue:mail:${id}`, 'defa', CANCELLED_REASON);
    await h.startWorker('mail', { welcome: (data) => void ran.push(JSON.stringify(data)) });
    const info = await waitFor('the job to read as cancelled', async () => {
      const found = await h.backend.getJob('mail', id!);
      return found?.state === 'cancelled' ? found : undefined;
    });
    expect(info).toMatchObject({ id, name: 'welcome', data: { to: 'a' } });
    expect(ran).toEqual([]);
    expect(await h.backend.getCounts('mail')).toMatchObject({ failed: 0, cancelled: 1 });
    // Not a run that was cancelled: no event.
    expect(h.events.filter((e) => e.jobId === id)).toEqual([]);
  });

  it('does not cancel a job added again under the id of a cancelled one, in a process that heard the cancel', async () => {
    const ranBy = new Map<string, string>();
    const handlers = (label: string) => ({
      hold: async (data: unknown, context: JobContext) => {
        ranBy.set(`${context.id}/${(data as { n: number }).n}`, label);
        if ((data as { wait: boolean }).wait) await new Promise((_, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason)));
        return label;
      },
    });
    const workers = { a: await h.startWorker('mail', handlers('a'), { concurrency: 2 }), b: await h.startWorker('mail', handlers('b'), { concurrency: 2 }, h.sibling()) };
    await h.backend.add([newJob('mail', 'hold', { n: 1, wait: true }, { jobId: 'again' })]);
    const runner = await waitFor('the first job to run', () => ranBy.get('again/1'));
    expect(await h.backend.cancel('mail', 'again')).toBe('cancelling');
    await waitFor('the cancelled job', async () => (await h.backend.getJob('mail', 'again'))?.state === 'cancelled');
    // Only the worker that heard the cancel without running the job is left to fetch the new one.
    await workers[runner as 'a' | 'b'].close();
    await h.backend.add([newJob('mail', 'hold', { n: 2, wait: false }, { jobId: 'again', removeOnComplete: false })]);
    await waitFor('the new job under the same id to complete', async () => (await h.backend.getJob('mail', 'again'))?.state === 'completed');
    expect(ranBy.get('again/2')).toBe(runner === 'a' ? 'b' : 'a');
  });

  it('fails a job whose name has no handler, naming it', async () => {
    await h.startWorker('mail', { welcome: () => undefined });
    const [{ id }] = await h.backend.add([newJob('mail', 'welcom')]);
    await waitFor('failed event', () => h.eventsOf('failed', id).length === 1);
    const [event] = h.eventsOf('failed', id);
    expect(event!.error).toBeInstanceOf(NoJobHandlerError);
    const info = await h.backend.getJob('mail', id!);
    expect(info!.state).toBe('failed');
    expect(info!.error!.message).toContain('"welcom"');
  });

  it('runs priority 0 first, then lower before higher, FIFO within a priority', async () => {
    const order: string[] = [];
    await h.backend.add([
      newJob('q', 'n', 'p5', { priority: 5 }),
      newJob('q', 'n', 'p0-a'),
      newJob('q', 'n', 'p1-a', { priority: 1 }),
      newJob('q', 'n', 'p0-b'),
      newJob('q', 'n', 'p1-b', { priority: 1 }),
      newJob('q', 'n', 'p0-c'),
    ]);
    await h.startWorker('q', { n: (data) => void order.push(data as string) }, { concurrency: 1 });
    await waitFor('all six ran', () => order.length === 6);
    expect(order).toEqual(['p0-a', 'p0-b', 'p0-c', 'p1-a', 'p1-b', 'p5']);
  });

  it('does not run a job before its runAt, and runs it soon after', async () => {
    let ranAt = 0;
    await h.startWorker('q', { n: () => void (ranAt = Date.now()) });
    const runAt = Date.now() + 700;
    await h.backend.add([newJob('q', 'n', {}, { runAt })]);
    await waitFor('delayed job ran', () => ranAt > 0, 5000);
    expect(ranAt).toBeGreaterThanOrEqual(runAt);
    expect(ranAt - runAt).toBeLessThan(1500);
  });

  it('retries with fixed backoff and then succeeds, reporting each retry', async () => {
    const starts: number[] = [];
    await h.startWorker('q', {
      flaky: (_data, { attempt }) => {
        starts.push(Date.now());
        if (attempt < 3) throw new Error(`boom ${attempt}`);
        return 'finally';
      },
    });
    const [{ id }] = await h.backend.add([newJob('q', 'flaky', {}, { attempts: 3, backoff: { type: 'fixed', delay: 300, jitter: 0 } })]);
    await waitFor('completed', () => h.eventsOf('completed', id).length === 1, 10_000);

    expect(starts).toHaveLength(3);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(300);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(300);
    const retrying = h.eventsOf('retrying', id);
    expect(retrying.map((event) => [event.attempt, event.error.message])).toEqual([
      [1, 'boom 1'],
      [2, 'boom 2'],
    ]);
    // nextRunAt is the failure time plus the backoff: after the attempt started, before the next one.
    for (const [i, event] of retrying.entries()) {
      expect(event.nextRunAt.getTime()).toBeGreaterThanOrEqual(starts[i]! + 300);
      expect(event.nextRunAt.getTime()).toBeLessThanOrEqual(starts[i + 1]! + 5);
    }
    expect(h.eventsOf('completed', id)[0]).toMatchObject({ attempt: 3, result: 'finally' });
    expect(h.eventsOf('failed', id)).toEqual([]);
  });

  it('doubles the delay with exponential backoff', async () => {
    const starts: number[] = [];
    await h.startWorker('q', {
      flaky: (_data, { attempt }) => {
        starts.push(Date.now());
        if (attempt < 3) throw new Error('again');
      },
    });
    const [{ id }] = await h.backend.add([newJob('q', 'flaky', {}, { attempts: 3, backoff: { type: 'exponential', delay: 200, jitter: 0 } })]);
    await waitFor('completed', () => h.eventsOf('completed', id).length === 1, 10_000);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(200);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(400);
  });

  it('moves a job that used up its attempts to failed, with the last error and its stack', async () => {
    await h.startWorker('q', {
      doomed: (_data, { attempt }) => {
        throw new Error(`attempt ${attempt} failed`);
      },
    });
    // Delayed at first, no backoff after: the retry is due at once, not a first delay later.
    const added = Date.now();
    const [{ id }] = await h.backend.add([
      newJob('q', 'doomed', { x: 1 }, { runAt: added + 300, attempts: 2, backoff: { type: 'fixed', delay: 0, jitter: 0 } }),
    ]);
    await waitFor('failed event', () => h.eventsOf('failed', id).length === 1);
    const failedAt = Date.now();

    expect(h.eventsOf('retrying', id).map((event) => event.attempt)).toEqual([1]);
    const nextRunAt = h.eventsOf('retrying', id)[0]!.nextRunAt.getTime();
    expect(nextRunAt).toBeGreaterThanOrEqual(added + 300);
    expect(nextRunAt).toBeLessThanOrEqual(failedAt);
    expect(h.eventsOf('failed', id)[0]).toMatchObject({ attempt: 2, error: { message: 'attempt 2 failed' } });
    const info = await h.backend.getJob('q', id!);
    expect(info).toMatchObject({ state: 'failed', attemptsMade: 2, maxAttempts: 2, data: { x: 1 } });
    expect(info!.error!.message).toBe('attempt 2 failed');
    expect(info!.error!.stack).toContain('attempt 2 failed');
    expect(info!.error!.stack).toContain('bullmq-worker.spec');
    expect(await h.backend.getCounts('q')).toMatchObject({ failed: 1, waiting: 0, active: 0 });
  });

  it('retries a failed job with a fresh attempt budget, one by one or all at once', async () => {
    let healthy = false;
    const attempts: number[] = [];
    await h.startWorker('q', {
      n: (_data, { attempt }) => {
        attempts.push(attempt);
        if (!healthy) throw new Error('down');
      },
    });
    const ids = (await h.backend.add([1, 2, 3].map((i) => newJob('q', 'n', { i }, { attempts: 2, backoff: { type: 'fixed', delay: 0, jitter: 0 } })))).map((a) => a.id);
    await waitFor('three failed', async () => (await h.backend.getCounts('q')).failed === 3);
    healthy = true;
    attempts.length = 0;

    expect(await h.backend.retry('q', ids[0]!)).toBe(true);
    await waitFor('first completed', () => h.eventsOf('completed', ids[0]).length === 1);
    expect(await h.backend.retryAllFailed('q')).toBe(2);
    await waitFor('all completed', () => h.eventsOf('completed').length === 3);
    expect(attempts).toEqual([1, 1, 1]);
    expect(await h.backend.getCounts('q')).toMatchObject({ failed: 0, waiting: 0, active: 0 });
  });

  it('applies retention: removed at once, kept, or the newest few', async () => {
    await h.startWorker('q', {
      ok: () => 'done',
      bad: () => {
        throw new Error('bad');
      },
    });
    const [gone, kept] = (
      await h.backend.add([
        newJob('q', 'ok', {}, { removeOnComplete: true }),
        newJob('q', 'ok', {}, { removeOnComplete: false }),
      ])
    ).map((a) => a.id);
    const [{ id: failedGone }] = await h.backend.add([newJob('q', 'bad', {}, { removeOnFail: true })]);
    await waitFor('three finished', () => h.events.length === 3);
    expect(await h.backend.getJob('q', gone!)).toBeUndefined();
    expect(await h.backend.getJob('q', kept!)).toMatchObject({ state: 'completed', result: 'done' });
    expect(await h.backend.getJob('q', failedGone!)).toBeUndefined();

    const counted = (await h.backend.add([1, 2, 3, 4].map((i) => newJob('q2', 'ok', { i }, { removeOnComplete: 2 })))).map((a) => a.id);
    await h.startWorker('q2', { ok: () => 'done' });
    await waitFor('four completed', () => h.eventsOf('completed').filter((event) => event.queue === 'q2').length === 4);
    expect((await h.backend.getCounts('q2')).completed).toBe(2);
    expect(await h.backend.getJob('q2', counted[3]!)).toMatchObject({ state: 'completed' });
    expect(await h.backend.getJob('q2', counted[0]!)).toBeUndefined();
  });

  it('pauses a queue for every worker of every process until resumed', async () => {
    const other = h.sibling();
    const ran: string[] = [];
    await h.startWorker('q', { n: (data) => void ran.push(data as string) }, {}, other);
    await h.backend.pause('q');
    const [{ id }] = await h.backend.add([newJob('q', 'n', 'while-paused')]);
    // Not a fixed wait: the other process's worker has fetched since, which it shows by promoting a
    // job that falls due meanwhile. BullMQ promotes due jobs in the same atomic fetch that takes the
    // next waiting one, so that fetch would have taken the paused job had the pause not held.
    // (A tick not delayed right after its add proves nothing, the machine was slow: another, later.)
    let tick: string | undefined;
    for (let delay = 50; !tick; delay *= 2) {
      const [{ id: added }] = await h.backend.add([newJob('q', 'n', 'tick', { runAt: Date.now() + delay })]);
      if ((await h.backend.getJob('q', added!))!.state === 'delayed') tick = added;
      else await h.backend.remove('q', added!);
    }
    await waitFor('the worker to fetch (promoting the due job)', async () => (await h.backend.getJob('q', tick!))?.state !== 'delayed');
    expect(ran).toEqual([]);
    expect((await h.backend.getJob('q', id!))!.state).toBe('waiting');
    expect((await h.backend.getCounts('q')).waiting).toBe(2);

    await h.backend.resume('q');
    await waitFor('jobs ran after resume', () => ran.length === 2);
    expect(ran).toEqual(['while-paused', 'tick']);
  });

  it('refuses to remove a running job', async () => {
    const started = deferred();
    const release = deferred();
    await h.startWorker('q', {
      n: async () => {
        started.resolve();
        await release.promise;
      },
    });
    const [{ id }] = await h.backend.add([newJob('q', 'n')]);
    await started.promise;
    expect((await h.backend.getJob('q', id!))).toMatchObject({ state: 'active', attemptsMade: 1 });
    expect(await h.backend.remove('q', id!)).toBe(false);
    release.resolve();
    await waitFor('completed', () => h.eventsOf('completed', id).length === 1);
  });

  it('lets running jobs finish on close, losing none', async () => {
    const started: string[] = [];
    const finished: string[] = [];
    const release = deferred();
    const worker = await h.startWorker(
      'q',
      {
        slow: async (data) => {
          started.push(data as string);
          await release.promise;
          finished.push(data as string);
        },
      },
      { concurrency: 4 },
    );
    await h.backend.add(['a', 'b', 'c', 'd', 'e', 'f'].map((x) => newJob('q', 'slow', x)));
    await waitFor('four running', () => started.length === 4);
    // The running jobs end only once close() has begun, however slow the machine: none may start after.
    const closing = worker.close();
    release.resolve();
    await closing;

    expect(finished.sort()).toEqual([...started].sort());
    expect(h.eventsOf('completed')).toHaveLength(4);
    // The two never started wait for the next worker.
    expect(await h.backend.getCounts('q')).toEqual({ waiting: 2, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0 });
    await h.startWorker('q', { slow: (data) => void finished.push(data as string) });
    await waitFor('the rest completed', () => finished.length === 6);
    expect(finished.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('past the grace period, aborts running jobs and hands them back at once without using an attempt', async () => {
    const contexts: JobContext[] = [];
    const worker = await h.startWorker(
      'q',
      {
        // Ignores its signal and would run for a minute: shutdown must not wait for it.
        stuck: (data, context) => {
          // One handler looks at its signal at once, the other only after the abort.
          if (data === 1) expect(context.signal.aborted).toBe(false);
          contexts.push(context);
          return new Promise((resolve) => setTimeout(resolve, 60_000).unref());
        },
      },
      { concurrency: 2, shutdownTimeoutMs: 300, leaseMs: 30_000 },
    );
    const ids = (await h.backend.add([newJob('q', 'stuck', 1, { attempts: 1 }), newJob('q', 'stuck', 2, { attempts: 1 })])).map((a) => a.id);
    await waitFor('both running', () => contexts.length === 2);
    const closing = Date.now();
    await worker.close();
    expect(Date.now() - closing).toBeLessThan(3000);

    for (const { signal } of contexts) {
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(JobAbortedError);
      expect(signal.reason).toMatchObject({ why: 'shutdown' });
    }
    // Back in the queue now, not after the 30 s lease.
    expect(await h.backend.getCounts('q')).toEqual({ waiting: 2, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0 });
    const attempts: number[] = [];
    await h.startWorker('q', { stuck: (_data, { attempt }) => void attempts.push(attempt) }, { concurrency: 2 });
    await waitFor('both completed', () => h.eventsOf('completed').length === 2);
    expect(attempts).toEqual([1, 1]);
    expect(h.eventsOf('completed').map((event) => event.jobId).sort()).toEqual([...ids].sort());
  });

  it('aborts a job whose lease is lost and reports it stalled when the lease runs out', async () => {
    const lost = new BullmqHarness({ stalledIntervalMs: 500 });
    try {
      const runs: AbortSignal[] = [];
      await lost.startWorker(
        'q',
        {
          n: (_data, { signal }) => {
            runs.push(signal);
            if (runs.length > 1) return 'second run';
            // The first run holds on until it is told the lease is gone.
            return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
          },
        },
        { leaseMs: 1000 },
      );
      const [{ id }] = await lost.backend.add([newJob('q', 'n')]);
      await waitFor('first run', () => runs.length === 1);
      // What a long pause of this process looks like from Redis: the lock is gone.
      await lost.redis.del(`${lost.keyPrefix}queue:q:${id}:lock`);

      await waitFor('signal aborted', () => runs[0]!.aborted, 5000);
      expect(runs[0]!.reason).toMatchObject({ why: 'lease-lost', jobId: id });
      await waitFor('completed by a second run', () => lost.eventsOf('completed', id).length === 1, 10_000);
      expect(lost.eventsOf('stalled', id)).toEqual([{ type: 'stalled', queue: 'q', jobId: id }]);
      expect(lost.eventsOf('completed', id)[0]).toMatchObject({ result: 'second run' });
    } finally {
      await lost.close();
    }
  });

  it('fails a job that stalled past maxStalledCount saying how often it stalled, as on Postgres', async () => {
    const lost = new BullmqHarness({ stalledIntervalMs: 500, maxStalledCount: 0 });
    try {
      let runs = 0;
      await lost.startWorker('q', { n: (_data, { signal }) => (runs++, new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))) }, { leaseMs: 1000 });
      const [{ id }] = await lost.backend.add([newJob('q', 'n')]);
      await waitFor('the run', () => runs === 1);
      await lost.redis.del(`${lost.keyPrefix}queue:q:${id}:lock`);
      const failed = await waitFor('the job to fail for stalling', async () => {
        const info = await lost.backend.getJob('q', id!);
        return info?.state === 'failed' ? info : undefined;
      }, 10_000);
      expect(failed!.error).toEqual({ message: JobLeaseExpiredError.describe(0) });
      expect(failed!.error!.message).toMatch(/^job stalled 1 time \(queue\.maxStalls is 0\)/);
      expect(runs).toBe(1);
    } finally {
      await lost.close();
    }
  });

  it('closes workers before queues, so a job enqueueing during shutdown still reaches Redis', async () => {
    const started = deferred();
    const workerClosing = deferred();
    // The job enqueues only once shutdown has reached the workers. Had the queues been closed
    // first, its add would go through a closed queue, or a new one that nothing closes.
    const closeWorker = Worker.prototype.close;
    jest.spyOn(Worker.prototype, 'close').mockImplementation(function (this: Worker, force?: boolean) {
      workerClosing.resolve();
      return closeWorker.call(this, force);
    });
    const closed = new Set<Queue>();
    const closeQueue = Queue.prototype.close;
    jest.spyOn(Queue.prototype, 'close').mockImplementation(function (this: Queue) {
      closed.add(this);
      return closeQueue.call(this);
    });
    const usedByChild: Queue[] = [];
    const addToQueue = Queue.prototype.add;
    jest.spyOn(Queue.prototype, 'add').mockImplementation(function (this: Queue, ...args: Parameters<Queue['add']>) {
      if (args[0] === 'child') usedByChild.push(this);
      return addToQueue.apply(this, args);
    });
    let enqueued: string[] | undefined;
    await h.startWorker('q', {
      parent: async () => {
        started.resolve();
        await workerClosing.promise;
        enqueued = (await h.backend.add([newJob('q', 'child', {}, { jobId: 'child-1' })])).map((a) => a.id);
      },
      child: () => undefined,
    });
    await h.backend.add([newJob('q', 'parent')]);
    await started.promise;
    await h.backend.close();
    expect(enqueued).toEqual(['child-1']);
    expect(usedByChild).toHaveLength(1);
    expect(closed.has(usedByChild[0]!)).toBe(true);
    // A fresh backend (the first one is closed) finds the child waiting.
    expect(await h.sibling().getJob('q', 'child-1')).toMatchObject({ state: 'waiting', name: 'child' });
  });
});
