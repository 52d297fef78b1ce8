import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { BallastModule, InvalidJobNameError, InvalidJobOptionError, QueueService } from '../../lib/index.js';
import { ALL_BACKENDS, setupBackend, type BackendSetup, type TestBackend } from '../support/backends.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { TEST_REDIS_URL, TEST_VALKEY_URL } from '../support/test-env.js';
import { waitFor } from '../support/wait-for.js';
import { deleteKeys } from './support/queue-test-app.js';
import { BeatJobsModule, ChangedBeatJobsModule, TickLog, UnscheduledBeatJobsModule } from './support/schedule-jobs.js';

afterAll(closeSharedPglite);

const DEADLINE = 20_000;
type JobsModule = typeof BeatJobsModule;

/**
 * Recurring schedules, on every provider: `@Job` schedules reconciled at boot, runtime schedules,
 * and each tick enqueued once across several app instances, a tick carrying its time to the handler.
 */
describe.each(ALL_BACKENDS)('schedules on %s', (backend: TestBackend) => {
  let setup: BackendSetup;
  const apps: Array<{ close(): Promise<void> }> = [];

  async function boot(jobs: JobsModule = BeatJobsModule): Promise<{ queue: QueueService; close(): Promise<void> }> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        BallastModule.forRoot({ ...setup.options, cache: { provider: setup.provider }, queue: { provider: setup.provider, pollIntervalMs: 200, shutdownTimeoutMs: 2000 } }),
        jobs,
      ],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    let closing: Promise<void> | undefined;
    const app = { queue: moduleRef.get(QueueService), close: () => (closing ??= moduleRef.close()) };
    apps.push(app);
    return app;
  }

  beforeEach(async () => {
    TickLog.runs.length = 0;
    setup = await setupBackend(backend, 'sched');
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await setup.cleanup();
    if (backend === 'redis' || backend === 'valkey') await deleteKeys(setup.keyPrefix, backend === 'redis' ? TEST_REDIS_URL : TEST_VALKEY_URL);
  });

  it('enqueues each tick of a @Job schedule once across three app instances, one stopped midway, each job carrying its tick', async () => {
    const replicas = [await boot(), await boot(), await boot()];
    await waitFor('8 ticks', () => new Set(TickLog.of('beat').map((run) => run.scheduledFor)).size >= 8, DEADLINE);
    await replicas[1]!.close();
    await waitFor('20 ticks', () => new Set(TickLog.of('beat').map((run) => run.scheduledFor)).size >= 20, DEADLINE);
    for (const replica of replicas) await replica.close();
    const runs = TickLog.of('beat');
    const ticks = runs.map((run) => run.scheduledFor!);
    // Every tick once: no tick twice, and none skipped between the first and the last.
    expect(ticks.every((tick) => typeof tick === 'number' && tick % 500 === 0)).toBe(true);
    const perTick = new Map<number, number>();
    for (const tick of ticks) perTick.set(tick, (perTick.get(tick) ?? 0) + 1);
    expect([...perTick.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    const sorted = [...perTick.keys()].sort((a, b) => a - b);
    expect(sorted.length).toBeGreaterThanOrEqual(20);
    expect(sorted[sorted.length - 1]! - sorted[0]!).toBe((sorted.length - 1) * 500);
    expect(runs.every((run) => (run.data as { from: string }).from === 'code')).toBe(true);
  });

  it('reconciles @Job schedules at boot: a changed spec updates, one removed from the code is deleted; runtime schedules stay', async () => {
    const first = await boot();
    await first.queue.upsertSchedule('weekly-digest', { queue: 'sched', name: 'report', cron: '0 8 * * 1', tz: 'Europe/Paris', data: { kind: 'digest' } });
    expect(await first.queue.getSchedules('sched')).toEqual([
      expect.objectContaining({ id: 'job:sched:beat', queue: 'sched', name: 'beat', every: 500, data: { from: 'code' }, catchUp: 'last', source: 'code' }),
      expect.objectContaining({ id: 'weekly-digest', queue: 'sched', name: 'report', cron: '0 8 * * 1', tz: 'Europe/Paris', source: 'api' }),
    ]);
    await first.close();

    const changed = await boot(ChangedBeatJobsModule);
    const [beat] = await changed.queue.getSchedules('sched');
    expect(beat).toMatchObject({ id: 'job:sched:beat', cron: '*/2 * * * * *', tz: 'Europe/Paris', data: { from: 'changed' } });
    expect(beat!.every).toBeUndefined();
    await waitFor('a tick of the changed schedule', () => TickLog.runs.some((run) => run.app === 'changed' && run.name === 'beat'), DEADLINE);
    const tick = TickLog.runs.find((run) => run.app === 'changed' && run.name === 'beat')!;
    expect(tick.scheduledFor! % 2000).toBe(0);
    expect(tick.data).toEqual({ from: 'changed' });
    await changed.close();

    const unscheduled = await boot(UnscheduledBeatJobsModule);
    expect((await unscheduled.queue.getSchedules()).map((s) => s.id)).toEqual(['weekly-digest']);
  });

  it('runs, lists and removes runtime schedules; updating the data keeps the next tick', async () => {
    const app = await boot(UnscheduledBeatJobsModule);
    await app.queue.upsertSchedule('nightly', { queue: 'sched', name: 'report', cron: '30 2 * * *', tz: 'Europe/Paris' });
    const [nightly] = await app.queue.getSchedules();
    expect(nightly).toMatchObject({ id: 'nightly', cron: '30 2 * * *', tz: 'Europe/Paris', data: {}, catchUp: 'last', source: 'api' });
    // 02:30 in Paris is 00:30 or 01:30 UTC.
    expect(nightly!.nextRunAt!.getTime()).toBeGreaterThan(Date.now());
    expect([0, 1]).toContain(nightly!.nextRunAt!.getUTCHours());
    expect(nightly!.nextRunAt!.getUTCMinutes()).toBe(30);
    await app.queue.upsertSchedule('nightly', { queue: 'sched', name: 'report', cron: '30 2 * * *', tz: 'Europe/Paris', data: { v: 2 } });
    const [updated] = await app.queue.getSchedules();
    expect(updated).toMatchObject({ data: { v: 2 } });
    expect(updated!.nextRunAt).toEqual(nightly!.nextRunAt);

    await app.queue.upsertSchedule('fast', { queue: 'sched', name: 'report', every: 300, data: { v: 'fast' }, options: { attempts: 2 } });
    await waitFor('two ticks of the runtime schedule', () => TickLog.of('report').length >= 2, DEADLINE);
    expect(TickLog.of('report').every((run) => (run.data as { v: string }).v === 'fast' && run.scheduledFor! % 300 === 0)).toBe(true);
    expect(await app.queue.removeSchedule('fast')).toBe(true);
    expect(await app.queue.removeSchedule('fast')).toBe(false);
    const afterRemoval = TickLog.of('report').length;
    // A schedule made after the removal ticks; the removed one adds at most the tick already enqueued.
    await app.queue.upsertSchedule('witness', { queue: 'sched', name: 'report', every: 300, data: { v: 'witness' } });
    await waitFor('three ticks of another schedule', () => TickLog.of('report').filter((run) => (run.data as { v: string }).v === 'witness').length >= 3, DEADLINE);
    expect(TickLog.of('report').filter((run) => (run.data as { v: string }).v === 'fast').length).toBeLessThanOrEqual(afterRemoval + 1);
    expect((await app.queue.getSchedules()).map((s) => s.id)).toEqual(['nightly', 'witness']);
  });

  it('refuses bad schedules with typed errors, storing nothing', async () => {
    const app = await boot(UnscheduledBeatJobsModule);
    const bad: Array<[unknown, string]> = [
      [{ name: 'report', cron: '61 * * * *' }, 'cron'],
      [{ name: 'report', cron: '0 3 * * *', tz: 'Mars/Olympus' }, 'tz'],
      [{ name: 'report', every: 50 }, 'every'],
      [{ name: 'report', every: 1000, tz: 'UTC' }, 'tz'],
      [{ name: 'report' }, 'cron'],
      [{ name: 'report', every: 1000, cron: '* * * * *' }, 'cron'],
      [{ name: 'report', every: 1000, catchUp: 'all' }, 'catchUp'],
      [{ name: 'report', every: 1000, options: { jobId: 'x' } }, 'options.jobId'],
      [{ name: 'report', every: 1000, when: 'now' }, 'when'],
    ];
    for (const [spec, option] of bad) {
      const error = await app.queue.upsertSchedule('bad', spec as never).catch((e: unknown) => e);
      expect({ option, error }).toEqual({ option, error: expect.any(InvalidJobOptionError) });
      expect((error as InvalidJobOptionError).option).toBe(option);
    }
    await expect(app.queue.upsertSchedule('has:colon', { name: 'report', every: 1000 })).rejects.toBeInstanceOf(InvalidJobNameError);
    expect(await app.queue.getSchedules()).toEqual([]);
  });
});
