import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { hours, RATE_LIMIT_ALGORITHMS, RateLimitService, type RateLimitAlgorithm } from '../../lib/index.js';
import { ALL_BACKENDS, setupBackend, type BackendSetup, type TestBackend } from '../support/backends.js';
import { bootBallast } from '../support/boot.js';
import { closeSharedPglite } from '../support/shared-pglite.js';

afterAll(closeSharedPglite);

/**
 * Atomicity under load: 1,000 calls in flight at once on one key with limit 100 must allow exactly
 * 100, on every provider and algorithm. A read-then-write anywhere would let more through. The
 * window is an hour so a token bucket refills (far) less than one unit during the run.
 */
describe.each(ALL_BACKENDS)('rate-limit concurrency on %s', (backend: TestBackend) => {
  let setup: BackendSetup;
  let moduleRef: TestingModule;
  let limiter: RateLimitService;

  beforeEach(async () => {
    setup = await setupBackend(backend, 'rl_conc');
    // A generous timeout: this checks atomicity, and a call that timed out would be decided by
    // onStoreError instead of by the store.
    moduleRef = await bootBallast({ ...setup.options, cache: { provider: setup.provider }, rateLimit: { provider: setup.provider, timeoutMs: 60_000 } });
    limiter = moduleRef.get(RateLimitService);
  });

  afterEach(async () => {
    await moduleRef.close();
    await setup.cleanup();
  });

  it.each(RATE_LIMIT_ALGORITHMS)('%s: 1,000 concurrent calls, limit 100, exactly 100 allowed', async (algorithm: RateLimitAlgorithm) => {
    const policy = { name: `conc-${algorithm}`, limit: 100, window: hours(1), algorithm };
    const results = await Promise.all(Array.from({ length: 1000 }, () => limiter.consume('one-key', policy)));
    expect(results.filter((r) => r.storeError !== undefined)).toEqual([]);
    expect(results.filter((r) => r.allowed)).toHaveLength(100);
    // Each allowed call saw a distinct count: remaining 99 down to 0, once each.
    const remaining = results.filter((r) => r.allowed).map((r) => r.remaining).sort((a, b) => b - a);
    expect(remaining).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
    expect(await limiter.peek('one-key', policy)).toMatchObject({ allowed: false, remaining: 0 });
  });
});
