import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { QueueService } from '../../lib/index.js';
import { ALL_BACKENDS, setupBackend, type TestBackend } from '../support/backends.js';
import { bootBallast } from '../support/boot.js';
import { startPrivateRedis } from '../support/private-redis.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { TEST_REDIS_URL, TEST_VALKEY_URL } from '../support/test-env.js';
import { uniquePrefix } from '../support/unique-name.js';
import { deleteKeys } from './support/queue-test-app.js';

afterAll(closeSharedPglite);

/** Enqueues `count` jobs without a jobId on a fresh app over `options`, returns the ids and closes the app. */
async function idsFrom(options: Parameters<typeof bootBallast>[0], count: number): Promise<string[]> {
  const moduleRef = await bootBallast({ ...options, queue: { ...options.queue, workers: false } });
  try {
    const queue = moduleRef.get(QueueService);
    const ids = (await queue.addBulk(Array.from({ length: count }, (_, i) => ({ queue: 'ids', name: 'n', data: { i } })))).map((a) => a.id);
    ids.push((await queue.add('ids', 'n', { single: true })).id);
    return ids;
  } finally {
    await moduleRef.close();
  }
}

/**
 * Ids Ballast generates are never handed out twice, also when the store starts again empty: a
 * Redis that keeps nothing on disk restarts its counters at 1, and so does a Postgres sequence that
 * is created anew (embedded PGlite in memory, a recreated database). Job ids get reported, logged
 * and stored by apps, so a repeated id names two different jobs.
 */
describe.each(ALL_BACKENDS)('generated job ids on %s', (backend: TestBackend) => {
  it('are not handed out again after the store lost everything', async () => {
    const setup = await setupBackend(backend, 'ids');
    const options = { ...setup.options, cache: { provider: setup.provider }, queue: { provider: setup.provider } };
    const before = await idsFrom(options, 100);
    // The store forgets everything of this app: its schema, or every key under its prefix.
    await setup.cleanup();
    if (backend === 'redis' || backend === 'valkey') await deleteKeys(setup.keyPrefix, backend === 'redis' ? TEST_REDIS_URL : TEST_VALKEY_URL);
    const after = await idsFrom(options, 100);
    await setup.cleanup();
    expect(new Set([...before, ...after]).size).toBe(before.length + after.length);
    if (backend === 'postgres' || backend === 'pglite') {
      // Sequence ids start at the clock, in microseconds: a new store's ids sort after the old one's.
      expect(BigInt(after[0]!)).toBeGreaterThan(BigInt(before.at(-1)!));
    }
  });
});

describe('generated job ids across a real restart', () => {
  it('a Redis that keeps nothing on disk: no id is handed out twice after it restarts', async () => {
    const server = await startPrivateRedis();
    try {
      const options = { redis: { url: server.url }, keyPrefix: uniquePrefix('ids-restart'), cache: { provider: 'redis' as const }, queue: { provider: 'redis' as const } };
      const before = await idsFrom(options, 200);
      await server.restart();
      const probe = new Redis(server.url);
      expect(await probe.dbsize()).toBe(0);
      probe.disconnect();
      const after = await idsFrom(options, 200);
      expect(new Set([...before, ...after]).size).toBe(before.length + after.length);
    } finally {
      await server.stop();
    }
  });

});
