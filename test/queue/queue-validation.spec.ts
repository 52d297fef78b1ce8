import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import {
  BallastConfigError,
  InvalidJobNameError,
  InvalidJobOptionError,
  MAX_JOB_ID_LENGTH,
  MAX_QUEUE_NAME_LENGTH,
  QueueService,
  SerializationError,
  type JobOptions,
} from '../../lib/index.js';
import { setupBackend, type BackendSetup } from '../support/backends.js';
import { bootBallast } from '../support/boot.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { resolveBallastConfig } from '../../lib/ballast-config.js';

afterAll(closeSharedPglite);

describe('queue config', () => {
  const cases: Array<{ title: string; options?: Parameters<typeof resolveBallastConfig>[0]; env?: Record<string, string>; key: string; value: unknown; allowed: RegExp }> = [
    { title: 'unknown QUEUE_PROVIDER', env: { QUEUE_PROVIDER: 'sqs' }, key: 'QUEUE_PROVIDER', value: 'sqs', allowed: /'postgres', 'valkey', 'redis'/ },
    { title: 'unknown queue.provider', options: { queue: { provider: 'kafka' as never } }, key: 'queue.provider', value: 'kafka', allowed: /'postgres'/ },
    { title: 'redis queue without a redis connection', options: { queue: { provider: 'redis' } }, key: 'redis', value: undefined, allowed: /REDIS_URL/ },
    { title: 'BALLAST_WORKERS not a yes/no word', env: { BALLAST_WORKERS: 'sometimes' }, key: 'BALLAST_WORKERS', value: 'sometimes', allowed: /'false'/ },
    { title: 'queue.workers as a string', options: { queue: { workers: 'false' as never } }, key: 'queue.workers', value: 'false', allowed: /true or false/ },
    { title: 'pollIntervalMs of 0', options: { queue: { pollIntervalMs: 0 } }, key: 'queue.pollIntervalMs', value: 0, allowed: /integer >= 10/ },
    { title: 'defaultLeaseMs under a second', options: { queue: { defaultLeaseMs: 500 } }, key: 'queue.defaultLeaseMs', value: 500, allowed: /integer >= 1000/ },
    { title: 'negative shutdownTimeoutMs', options: { queue: { shutdownTimeoutMs: -1 } }, key: 'queue.shutdownTimeoutMs', value: -1, allowed: /integer >= 0/ },
    { title: 'fractional timeoutMs', options: { queue: { timeoutMs: 2.5 } }, key: 'queue.timeoutMs', value: 2.5, allowed: /integer >= 1/ },
  ];

  it.each(cases)('$title', ({ options, env, key, value, allowed }) => {
    let error: unknown;
    try {
      resolveBallastConfig(options ?? {}, env ?? {});
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BallastConfigError);
    expect(error).toMatchObject({ key, value });
    expect((error as BallastConfigError).allowed).toMatch(allowed);
    expect((error as Error).message).toContain(key);
  });

  it('defaults: postgres, workers on, 1 s poll, 10 s grace, 30 s lease, 5 s call bound', () => {
    expect(resolveBallastConfig({}, {}).queue).toEqual({
      provider: 'postgres',
      workers: true,
      pollIntervalMs: 1000,
      shutdownTimeoutMs: 10_000,
      defaultLeaseMs: 30_000,
      timeoutMs: 5000,
      durableEnqueue: true,
      maxStalls: 3,
      configured: false,
    });
  });

  it('reads QUEUE_PROVIDER and BALLAST_WORKERS from env; options in code win', () => {
    const fromEnv = resolveBallastConfig({}, { QUEUE_PROVIDER: ' Redis ', REDIS_URL: 'redis://127.0.0.1:6379', BALLAST_WORKERS: 'false' });
    expect(fromEnv.queue).toMatchObject({ provider: 'redis', workers: false });
    expect(resolveBallastConfig({}, { BALLAST_WORKERS: 'OFF' }).queue.workers).toBe(false);
    expect(resolveBallastConfig({}, { BALLAST_WORKERS: '1' }).queue.workers).toBe(true);
    const code = resolveBallastConfig({ queue: { provider: 'postgres', workers: true } }, { QUEUE_PROVIDER: 'nonsense', BALLAST_WORKERS: 'false' });
    expect(code.queue).toMatchObject({ provider: 'postgres', workers: true });
  });
});

/** `QueueService` checks its inputs itself, the same for every provider, and enqueues nothing on a bad one. */
describe('QueueService input checks', () => {
  let setup: BackendSetup;
  let moduleRef: TestingModule;
  let queue: QueueService;

  beforeAll(async () => {
    setup = await setupBackend('pglite', 'queue_inputs');
    moduleRef = await bootBallast({ ...setup.options, queue: { workers: false } });
    queue = moduleRef.get(QueueService);
  });

  afterAll(async () => {
    await moduleRef.close();
    await setup.cleanup();
  });

  afterEach(async () => {
    // Whatever a check let through would show up here.
    expect(await queue.getCounts('q')).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0 });
  });

  it('refuses bad queue names, job names and ids with InvalidJobNameError', async () => {
    const bad: Array<[string, () => Promise<unknown>, string, unknown]> = [
      ['empty queue', () => queue.add('', 'n', 1), 'queue', ''],
      ['queue with a colon', () => queue.add('a:b', 'n', 1), 'queue', 'a:b'],
      ['queue with a space', () => queue.add('a b', 'n', 1), 'queue', 'a b'],
      ['queue too long', () => queue.add('q'.repeat(MAX_QUEUE_NAME_LENGTH + 1), 'n', 1), 'queue', 'q'.repeat(MAX_QUEUE_NAME_LENGTH + 1)],
      ['non-string queue', () => queue.add(7 as unknown as string, 'n', 1), 'queue', 7],
      ['empty job name', () => queue.add('q', '', 1), 'name', ''],
      ['job name with a newline', () => queue.add('q', 'a\nb', 1), 'name', 'a\nb'],
      ['whole-number jobId', () => queue.add('q', 'n', 1, { jobId: '42' }), 'jobId', '42'],
      ['jobId with a colon', () => queue.add('q', 'n', 1, { jobId: 'order:42' }), 'jobId', 'order:42'],
      ['jobId too long', () => queue.add('q', 'n', 1, { jobId: 'x'.repeat(MAX_JOB_ID_LENGTH + 1) }), 'jobId', 'x'.repeat(MAX_JOB_ID_LENGTH + 1)],
      ['empty id in getJob', () => queue.getJob('q', ''), 'id', ''],
      // Every store would replace half a character, so two such ids would name one job (or none).
      ['jobId with a lone surrogate', () => queue.add('q', 'n', 1, { jobId: 'order-\ud800' }), 'jobId', 'order-\ud800'],
      ['jobId with another lone surrogate', () => queue.add('q', 'n', 1, { jobId: 'order-\udbff' }), 'jobId', 'order-\udbff'],
      ['getJob with a lone surrogate', () => queue.getJob('q', 'x\udc00'), 'id', 'x\udc00'],
      ['jobId with NUL', () => queue.add('q', 'n', 1, { jobId: 'a\u0000b' }), 'jobId', 'a\u0000b'],
    ];
    for (const [label, call, field, value] of bad) {
      const error = await call().catch((e: unknown) => e);
      expect({ label, error }).toEqual({ label, error: expect.any(InvalidJobNameError) });
      expect(error).toMatchObject({ field, value });
    }
  });

  it('refuses data JSON cannot carry with SerializationError, naming the path', async () => {
    const error = await queue.add('q', 'n', { user: { at: new Date() } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SerializationError);
    expect(error).toMatchObject({ path: '$.user.at' });
    await expect(queue.add('q', 'n', undefined)).rejects.toBeInstanceOf(SerializationError);
    await expect(queue.add('q', 'n', { n: 10n })).rejects.toBeInstanceOf(SerializationError);
    // Half an emoji: JSON would write it as an escape Postgres jsonb refuses.
    await expect(queue.add('q', 'n', { s: '😀'.slice(0, 1) })).rejects.toMatchObject({ name: 'SerializationError', path: '$.s' });
  });

  it('refuses bad options with InvalidJobOptionError naming the option', async () => {
    const bad: Array<[JobOptions, string, unknown]> = [
      [{ delay: 100, runAt: new Date() }, 'delay', 100],
      [{ delay: -1 }, 'delay', -1],
      [{ delay: 1.5 }, 'delay', 1.5],
      [{ runAt: new Date('nope') }, 'runAt', expect.any(Date)],
      // Past 9999 no ISO-8601 text (nor Postgres) takes it; a delay that long is a bug.
      [{ runAt: new Date(Date.UTC(10_000, 0, 1)) }, 'runAt', expect.any(Date)],
      [{ delay: 200 * 365 * 24 * 3600 * 1000 }, 'delay', 200 * 365 * 24 * 3600 * 1000],
      [{ priority: -1 }, 'priority', -1],
      [{ priority: 2_097_153 }, 'priority', 2_097_153],
      [{ attempts: 0 }, 'attempts', 0],
      [{ backoff: -5 }, 'backoff', -5],
      [{ backoff: { type: 'linear' as never, delay: 10 } }, 'backoff.type', 'linear'],
      [{ backoff: { type: 'fixed', delay: 10, jitter: 2 } }, 'backoff.jitter', 2],
      [{ leaseMs: 999 }, 'leaseMs', 999],
      [{ removeOnComplete: -1 }, 'removeOnComplete', -1],
      [{ removeOnFail: { count: 5 } as never }, 'removeOnFail.age', undefined],
      [{ client: {} as never }, 'client', {}],
      [{ retries: 3 } as never, 'retries', 3],
      [{ unique: { for: 0 } }, 'unique.for', 0],
      [{ unique: { key: '', for: 100 } }, 'unique.key', ''],
      [{ unique: { key: 'k'.repeat(257), for: 100 } }, 'unique.key', 'k'.repeat(257)],
      [{ unique: { key: 'a\u0000b', for: 100 } }, 'unique.key', 'a\u0000b'],
      [{ unique: { for: 100, scope: 'all' } as never }, 'unique.scope', 'all'],
      [{ unique: 60_000 as never }, 'unique', 60_000],
      [{ debounce: { delay: 100 } as never }, 'debounce.key', undefined],
      [{ debounce: { key: 'k', delay: 1.5 } }, 'debounce.delay', 1.5],
      [{ debounce: { key: 'k', for: 100 } as never }, 'debounce.for', 100],
      [{ throttle: { key: 'k' } as never }, 'throttle.for', undefined],
      // Debounce and throttle set the run time and name the job by their key.
      [{ debounce: { key: 'k', delay: 100 }, delay: 5 }, 'delay', 5],
      [{ throttle: { key: 'k', for: 100 }, runAt: new Date(0) }, 'runAt', new Date(0)],
      [{ throttle: { key: 'k', for: 100 }, jobId: 'order-1' }, 'jobId', 'order-1'],
      // One mode at a time.
      [{ unique: { for: 100 }, throttle: { key: 'k', for: 100 } }, 'throttle', { key: 'k', for: 100 }],
      [{ debounce: { key: 'k', delay: 100 }, throttle: { key: 'k', for: 100 } }, 'throttle', { key: 'k', for: 100 }],
    ];
    for (const [options, option, value] of bad) {
      const error = await queue.add('q', 'n', 1, options).catch((e: unknown) => e);
      expect({ option, error }).toEqual({ option, error: expect.any(InvalidJobOptionError) });
      expect((error as InvalidJobOptionError).option).toBe(option);
      expect((error as InvalidJobOptionError).value).toEqual(value);
      expect((error as InvalidJobOptionError).source).toBe('add');
    }
  });

  it('checks every addBulk entry before enqueueing any, naming the entry', async () => {
    const error = await queue
      .addBulk([
        { queue: 'q', name: 'n', data: 1 },
        { queue: 'q', name: 'n', data: 2, options: { priority: 1.5 } },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidJobOptionError);
    expect(error).toMatchObject({ option: 'priority', source: 'addBulk[1]' });
    const pglite = { query: async () => ({ rows: [] }) };
    const mixed = await queue
      .addBulk([
        { queue: 'q', name: 'n', data: 1, options: { client: pglite } },
        { queue: 'q', name: 'n', data: 2 },
      ])
      .catch((e: unknown) => e);
    expect(mixed).toMatchObject({ name: 'InvalidJobOptionError', option: 'client', source: 'addBulk[1]' });
  });
});
