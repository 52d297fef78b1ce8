import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { BallastTimeoutError, hours, minutes, RateLimitService, type RateLimitPolicy, type RateLimitResult } from '../../lib/index.js';
import { ALL_BACKENDS, setupBackend, type BackendSetup, type TestBackend } from '../support/backends.js';
import { bootBallast } from '../support/boot.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { TEST_DATABASE_URL } from '../support/test-env.js';
import { tableLocker } from '../support/table-locker.js';

afterAll(closeSharedPglite);

function tally(results: readonly RateLimitResult[]): { allowed: number; storeErrors: number } {
  return {
    allowed: results.filter((r) => r.allowed).length,
    storeErrors: results.filter((r) => r.storeError !== undefined).length,
  };
}

/**
 * A flood must not switch the limiter off. With the default `timeoutMs` (1 s) and the default
 * failure policy (`allow`), 20,000 calls at once used to spend their deadline queued for a
 * connection in this process, time out and be let through. Now the deadline starts when a call is
 * sent, calls on one key share store calls, and a key known to be over its limit is refused here:
 * exactly the limit is allowed, and no call is decided by the failure policy.
 */
describe.each(ALL_BACKENDS)('rate limits under a flood on %s', (backend: TestBackend) => {
  let setup: BackendSetup;
  let moduleRef: TestingModule;
  let limiter: RateLimitService;

  beforeEach(async () => {
    setup = await setupBackend(backend, 'rl_flood');
    moduleRef = await bootBallast({ ...setup.options, cache: { provider: setup.provider }, rateLimit: { provider: setup.provider } });
    limiter = moduleRef.get(RateLimitService);
  });

  afterEach(async () => {
    await moduleRef.close();
    await setup.cleanup();
  });

  it('20,000 concurrent calls on one key at limit 100: exactly 100 allowed, no store errors', async () => {
    const policy: RateLimitPolicy = { name: 'flood', limit: 100, window: hours(1) };
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 20_000 }, () => limiter.consume('one-key', policy)));
    const elapsed = Date.now() - started;
    const { allowed, storeErrors } = tally(results);
    console.log(`flood on ${backend}: 20,000 calls on one key, ${allowed} allowed, ${storeErrors} store errors, ${elapsed} ms`);
    expect({ allowed, storeErrors }).toEqual({ allowed: 100, storeErrors: 0 });
    // Each allowed call saw its own count.
    const remaining = results.filter((r) => r.allowed).map((r) => r.remaining).sort((a, b) => b - a);
    expect(remaining).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
    expect(results.filter((r) => !r.allowed).every((r) => r.retryAfterMs > 0 && r.remaining === 0)).toBe(true);
  });

  it('20,000 concurrent calls over 2,000 keys at limit 5: 5 allowed per key, no store errors', async () => {
    const policy: RateLimitPolicy = { name: 'spread', limit: 5, window: hours(1), algorithm: 'fixed-window' };
    const keys = Array.from({ length: 20_000 }, (_, i) => `key-${i % 2000}`);
    const started = Date.now();
    const results = await Promise.all(keys.map((key) => limiter.consume(key, policy)));
    const elapsed = Date.now() - started;
    const { allowed, storeErrors } = tally(results);
    console.log(`flood on ${backend}: 20,000 calls over 2,000 keys, ${allowed} allowed, ${storeErrors} store errors, ${elapsed} ms`);
    expect({ allowed, storeErrors }).toEqual({ allowed: 10_000, storeErrors: 0 });
    const perKey = new Map<string, number>();
    results.forEach((r, i) => {
      if (r.allowed) perKey.set(keys[i]!, (perKey.get(keys[i]!) ?? 0) + 1);
    });
    expect(new Set(perKey.values())).toEqual(new Set([5]));
  });

  it('a key over its limit is refused without the store until it can fit, and reset() lifts that', async () => {
    const policy: RateLimitPolicy = { name: 'blocked', limit: 2, window: minutes(1), algorithm: 'fixed-window' };
    await limiter.consume('k', policy);
    await limiter.consume('k', policy);
    const rejected = await limiter.consume('k', policy);
    expect(rejected).toMatchObject({ allowed: false, remaining: 0 });
    const again = await limiter.consume('k', policy);
    expect(again.allowed).toBe(false);
    expect(again.storeError).toBeUndefined();
    expect(again.retryAfterMs).toBeGreaterThan(0);
    expect(again.retryAfterMs).toBeLessThanOrEqual(rejected.retryAfterMs);
    // A call that takes nothing still asks the store.
    expect((await limiter.consume('k', policy, { cost: 0 })).allowed).toBe(true);
    await limiter.reset('k', policy);
    expect((await limiter.consume('k', policy)).allowed).toBe(true);
  });
});

describe('rate limits behind a store that stops answering', () => {
  it('decisions queued behind a timed-out call fail at once instead of each waiting its own deadline', async () => {
    const setup = await setupBackend('postgres', 'rl_stall');
    // Two connections: every call past the first two queues in the service.
    const moduleRef = await bootBallast({ ...setup.options, postgres: { connectionString: TEST_DATABASE_URL, poolSize: 2 }, rateLimit: { timeoutMs: 300, onStoreError: 'deny' } });
    const locker = await tableLocker();
    try {
      const limiter = moduleRef.get(RateLimitService);
      const policy: RateLimitPolicy = { name: 'stalled', limit: 1000, window: minutes(1) };
      expect((await limiter.consume('warm', policy)).storeError).toBeUndefined();
      await locker.lock(setup.schema, 'rate_limits');
      const started = Date.now();
      // 200 distinct keys, so nothing joins: without the fail-fast they would time out two by two,
      // 100 rounds of 300 ms.
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => limiter.consume(`k${i}`, policy)));
      const elapsed = Date.now() - started;
      expect(results.every((r) => !r.allowed && r.storeError instanceof BallastTimeoutError)).toBe(true);
      expect(elapsed).toBeLessThan(3000);
    } finally {
      await locker.close();
      await moduleRef.close();
      await setup.cleanup();
    }
  });

  it('a key known to be over its limit is refused without asking the store', async () => {
    const setup = await setupBackend('postgres', 'rl_known');
    const moduleRef = await bootBallast({ ...setup.options, rateLimit: { timeoutMs: 300 } });
    const locker = await tableLocker();
    try {
      const limiter = moduleRef.get(RateLimitService);
      const policy: RateLimitPolicy = { name: 'known', limit: 1, window: minutes(1), algorithm: 'fixed-window' };
      expect((await limiter.consume('over', policy)).allowed).toBe(true);
      const rejected = await limiter.consume('over', policy);
      expect(rejected.allowed).toBe(false);
      expect(rejected.storeError).toBeUndefined();
      await locker.lock(setup.schema, 'rate_limits');
      // The store cannot answer now: another key times out (and the failure policy lets it through),
      // while the key known to be over its limit is refused at once, with no store error.
      const [other, over] = await Promise.all([limiter.consume('other', policy), limiter.consume('over', policy)]);
      expect(other.storeError).toBeInstanceOf(BallastTimeoutError);
      expect(over).toMatchObject({ allowed: false, remaining: 0 });
      expect(over.storeError).toBeUndefined();
      expect(over.retryAfterMs).toBeGreaterThan(0);
    } finally {
      await locker.close();
      await moduleRef.close();
      await setup.cleanup();
    }
  });
});
