import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { BallastBackendError, BallastTimeoutError, CacheService } from '../../lib/index.js';
import { setupBackend } from '../support/backends.js';
import { bootBallast } from '../support/boot.js';
import { TEST_DATABASE_URL } from '../support/test-env.js';
import { startPrivateRedis } from '../support/private-redis.js';
import { uniquePrefix } from '../support/unique-name.js';
import { tableLocker } from '../support/table-locker.js';

/** A failing or hung store surfaces as a typed error naming the provider, within the configured bound. */
describe('cache backend errors', () => {
  it.each(['redis', 'valkey'] as const)('%s gone after boot: calls fail with BallastBackendError, never hang', async (provider) => {
    const server = await startPrivateRedis();
    const moduleRef = await bootBallast({
      [provider]: { url: server.url },
      cache: { provider, timeoutMs: 300 },
      keyPrefix: uniquePrefix('down'),
    });
    try {
      const cache = moduleRef.get(CacheService);
      await cache.set('k', 1);
      await server.kill();
      const started = Date.now();
      const error = await cache.get('k').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BallastBackendError);
      expect((error as BallastBackendError).provider).toBe(provider);
      expect((error as BallastBackendError).operation).toBe('cache.get');
      expect(Date.now() - started).toBeLessThan(3000);
      await expect(cache.set('k', 1)).rejects.toBeInstanceOf(BallastBackendError);
    } finally {
      await moduleRef.close();
      await server.stop();
    }
  });

  it('postgres: a call blocked by a lock times out with BallastTimeoutError', async () => {
    const setup = await setupBackend('postgres', 'timeout');
    const moduleRef = await bootBallast({ ...setup.options, cache: { provider: 'postgres', timeoutMs: 200 } });
    const locker = await tableLocker();
    try {
      const cache = moduleRef.get(CacheService);
      await cache.set('k', 'v');
      await locker.lock(setup.schema, 'cache_entries');
      const error = await cache.get('k').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BallastTimeoutError);
      expect((error as BallastTimeoutError).provider).toBe('postgres');
      expect((error as BallastTimeoutError).timeoutMs).toBe(200);
      await locker.release();
      // Once the lock is gone the same service works again.
      expect(await cache.get('k')).toBe('v');
    } finally {
      await locker.close();
      await moduleRef.close();
      await setup.cleanup();
    }
  });

  it('postgres: a driver error keeps the driver error as cause', async () => {
    const setup = await setupBackend('postgres', 'cause');
    const moduleRef = await bootBallast({ ...setup.options, cache: { provider: 'postgres' } });
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`DROP TABLE "${setup.schema}".cache_entries`);
      const error = await moduleRef.get(CacheService).get('k').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BallastBackendError);
      expect((error as BallastBackendError).message).toMatch(/postgres backend failed in cache\.get: .*cache_entries/);
      expect((error as BallastBackendError).cause).toBeInstanceOf(Error);
    } finally {
      await admin.end();
      await moduleRef.close();
      await setup.cleanup();
    }
  });
});
