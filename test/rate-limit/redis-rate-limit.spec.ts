import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BallastBackendError, minutes, RateLimitService, type RateLimitPolicy } from '../../lib/index.js';
import { FIXED_WINDOW_LUA } from '../../lib/drivers/redis/rate-limit/fixed-window.lua.js';
import { RedisScript } from '../../lib/drivers/redis/rate-limit/redis-script.js';
import { bootBallast } from '../support/boot.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { uniquePrefix } from '../support/unique-name.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A Redis server of this suite's own (a free port picked at run time, a process this suite holds),
 * so it can be killed and restarted (which also empties its script cache) without touching the
 * shared one or another run's.
 */
const FIXED_WINDOW_SHA = new RedisScript('fixed-window', FIXED_WINDOW_LUA).sha;

describe('redis rate-limit store', () => {
  let server: PrivateRedis;
  let url: string;
  let admin: Redis;

  beforeAll(async () => {
    server = await startPrivateRedis();
    url = server.url;
    admin = new Redis(url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => undefined);
  });

  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it('writes one expiring key per counter, under the module prefix, with the caller key hashed', async () => {
    const keyPrefix = uniquePrefix('rl-keys');
    const moduleRef = await bootBallast({ redis: { url }, cache: { provider: 'redis' }, keyPrefix, rateLimit: { provider: 'redis' } });
    try {
      const limiter = moduleRef.get(RateLimitService);
      const long = 'user:' + 'x'.repeat(5000);
      for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket'] as const) {
        await limiter.consume(long, { name: `keys-${algorithm}`, limit: 5, window: minutes(1), algorithm });
      }
      const keys = (await admin.keys(`${keyPrefix}*`)).sort();
      expect(keys).toHaveLength(3);
      const escaped = keyPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      for (const [i, code] of ['fw', 'sw', 'tb'].entries()) {
        expect(keys[i]).toMatch(new RegExp(`^${escaped}rl:keys-[a-z-]+:${code}:[A-Za-z0-9_-]{22}$`));
        const ttl = await admin.pttl(keys[i]!);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(minutes(2));
      }
    } finally {
      await moduleRef.close();
    }
  });

  it('fails open while the server is down, logs once, and after a restart reloads its scripts and counts again', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const moduleRef = await bootBallast({
      redis: { url },
      cache: { provider: 'redis' },
      keyPrefix: uniquePrefix('rl-restart'),
      rateLimit: { provider: 'redis', timeoutMs: 300 },
    });
    try {
      const limiter = moduleRef.get(RateLimitService);
      const policy: RateLimitPolicy = { name: 'restart', limit: 3, window: minutes(1), algorithm: 'fixed-window' };
      expect(await limiter.consume('k', policy)).toMatchObject({ allowed: true, remaining: 2 });
      expect(await admin.script('EXISTS', FIXED_WINDOW_SHA)).toEqual([1]);

      await server.kill();
      const started = Date.now();
      for (let i = 0; i < 20; i++) {
        const result = await limiter.consume('k', policy);
        expect(result.allowed).toBe(true);
        expect(result.storeError).toBeInstanceOf(BallastBackendError);
      }
      expect(Date.now() - started).toBeLessThan(20 * 300 + 3000);
      const failures = warn.mock.calls.filter(([message]) => String(message).startsWith('rate-limit store failed'));
      expect(failures).toHaveLength(1);
      expect(String(failures[0]![0])).toMatch(/policy "restart" let the call through \(onStoreError: 'allow'\)/);

      await server.restart();
      expect(await admin.script('EXISTS', FIXED_WINDOW_SHA)).toEqual([0]);
      // A new server knows no scripts: the first call gets NOSCRIPT and falls back to EVAL.
      const back = await waitFor('decisions from the store again', async () => {
        const result = await limiter.consume('k', policy);
        return result.storeError === undefined ? result : undefined;
      }, 15_000, 50);
      expect(back).toMatchObject({ allowed: true, remaining: 2 }); // the restarted server lost the old count
      expect(await admin.script('EXISTS', FIXED_WINDOW_SHA)).toEqual([1]);
    } finally {
      warn.mockRestore();
      await moduleRef.close();
    }
  });
});

