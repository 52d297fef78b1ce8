import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import {
  hours,
  InvalidCostError,
  InvalidKeyError,
  RATE_LIMIT_ALGORITHMS,
  RateLimitService,
  UnknownRateLimitPolicyError,
  type RateLimitAlgorithm,
  type RateLimitPolicy,
  type RateLimitResult,
} from '../../lib/index.js';
import { ALL_BACKENDS, setupBackend, type BackendSetup, type TestBackend } from '../support/backends.js';
import { bootBallast } from '../support/boot.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { waitFor } from '../support/wait-for.js';

afterAll(closeSharedPglite);

/** Slack for comparing the store's clock (Redis/Postgres server time) with the test's. */
const CLOCK_SLACK_MS = 60;

/**
 * The rate-limit contract: every test runs unchanged on each backend and algorithm, on the real
 * clock (Redis decides on server time, so nothing can fake it). Windows that must pass are short
 * and waited for with deadlines; everything else uses an hour-long window so time cannot interfere.
 * Exact edge arithmetic with a controlled clock lives in postgres-rate-limit-clock.spec.ts.
 */
describe.each(ALL_BACKENDS)('rate-limit contract on %s', (backend: TestBackend) => {
  let setup: BackendSetup;
  let moduleRef: TestingModule;
  let limiter: RateLimitService;

  beforeEach(async () => {
    setup = await setupBackend(backend, 'rl');
    moduleRef = await bootBallast({
      ...setup.options,
      // The cache on the same backend, so a Redis run does not boot embedded Postgres for it.
      cache: { provider: setup.provider },
      rateLimit: { provider: setup.provider, policies: { login: { limit: 3, window: hours(1), algorithm: 'fixed-window' } } },
    });
    limiter = moduleRef.get(RateLimitService);
  });

  afterEach(async () => {
    await moduleRef.close();
    await setup.cleanup();
  });

  it('runs on the chosen provider', () => {
    expect(limiter.provider).toBe(setup.provider);
  });

  it('uses named policies and keeps policies and keys apart', async () => {
    for (let i = 0; i < 3; i++) expect((await limiter.consume('alice', 'login')).allowed).toBe(true);
    expect((await limiter.consume('alice', 'login')).allowed).toBe(false);
    expect((await limiter.consume('bob', 'login')).allowed).toBe(true);
    // Same key, same numbers, another policy: another budget.
    expect((await limiter.consume('alice', { name: 'other', limit: 3, window: hours(1), algorithm: 'fixed-window' })).allowed).toBe(true);
    await expect(limiter.consume('alice', 'logn')).rejects.toBeInstanceOf(UnknownRateLimitPolicyError);
  });

  it('rejects bad keys and costs before touching the store', async () => {
    const policy: RateLimitPolicy = { limit: 5, window: hours(1) };
    await expect(limiter.consume('', policy)).rejects.toBeInstanceOf(InvalidKeyError);
    // Half a character would be hashed as U+FFFD: '\ud800' and '\udbff' would share one budget.
    await expect(limiter.consume('user-\ud800', policy)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(limiter.peek('user-\udbff', policy)).rejects.toBeInstanceOf(InvalidKeyError);
    for (const cost of [-1, 1.5, 6, Number.NaN]) {
      await expect(limiter.consume('k', policy, { cost })).rejects.toBeInstanceOf(InvalidCostError);
    }
    expect((await limiter.peek('k', policy)).remaining).toBe(5);
    // A key of any length is fine: it is hashed.
    expect((await limiter.consume('x'.repeat(100_000), policy)).allowed).toBe(true);
  });

  describe.each(RATE_LIMIT_ALGORITHMS)('%s', (algorithm: RateLimitAlgorithm) => {
    const hourly = (limit: number): RateLimitPolicy => ({ name: `hourly-${limit}`, limit, window: hours(1), algorithm });

    it('allows exactly `limit` calls, counting remaining down to 0, then rejects', async () => {
      const policy = hourly(5);
      const remaining: number[] = [];
      for (let i = 0; i < 5; i++) {
        const result = await limiter.consume('k', policy);
        expect(result).toMatchObject({ allowed: true, limit: 5, retryAfterMs: 0 });
        expect(result.storeError).toBeUndefined();
        remaining.push(result.remaining);
      }
      expect(remaining).toEqual([4, 3, 2, 1, 0]);
      const rejected = await limiter.consume('k', policy);
      expect(rejected).toMatchObject({ allowed: false, limit: 5, remaining: 0 });
      expect(rejected.retryAfterMs).toBeGreaterThan(0);
      expect(rejected.retryAfterMs).toBeLessThanOrEqual(hours(1) * (algorithm === 'sliding-window' ? 2 : 1));
      expect(rejected.resetMs).toBeGreaterThan(0);
    });

    it('does not count rejected calls', async () => {
      const policy = hourly(5);
      expect((await limiter.consume('k', policy, { cost: 3 })).remaining).toBe(2);
      for (let i = 0; i < 10; i++) expect((await limiter.consume('k', policy, { cost: 3 })).allowed).toBe(false);
      // Had any rejected call taken its 3 units, these 2 would not fit.
      expect(await limiter.consume('k', policy, { cost: 2 })).toMatchObject({ allowed: true, remaining: 0 });
      expect((await limiter.consume('k', policy)).allowed).toBe(false);
    });

    it('takes `cost` units; cost 0 takes nothing; cost = limit fits an empty budget', async () => {
      const policy = hourly(10);
      expect(await limiter.consume('k', policy, { cost: 4 })).toMatchObject({ allowed: true, remaining: 6 });
      expect(await limiter.consume('k', policy, { cost: 0 })).toMatchObject({ allowed: true, remaining: 6 });
      expect(await limiter.consume('k', policy, { cost: 7 })).toMatchObject({ allowed: false, remaining: 6 });
      expect(await limiter.consume('k', policy, { cost: 6 })).toMatchObject({ allowed: true, remaining: 0 });
      expect(await limiter.consume('other', policy, { cost: 10 })).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('peeks without consuming and resets a key', async () => {
      const policy = hourly(3);
      expect(await limiter.peek('k', policy)).toMatchObject({ allowed: true, limit: 3, remaining: 3, resetMs: 0, retryAfterMs: 0 });
      await limiter.consume('k', policy, { cost: 2 });
      for (let i = 0; i < 3; i++) expect(await limiter.peek('k', policy)).toMatchObject({ allowed: true, remaining: 1 });
      await limiter.consume('k', policy);
      const full = await limiter.peek('k', policy);
      expect(full).toMatchObject({ allowed: false, remaining: 0 });
      expect(full.retryAfterMs).toBeGreaterThan(0);
      await limiter.reset('k', policy);
      expect(await limiter.peek('k', policy)).toMatchObject({ allowed: true, remaining: 3 });
      expect(await limiter.consume('k', policy, { cost: 3 })).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('consumeAll takes from every policy or, when one rejects, from none', async () => {
      const wide = hourly(10);
      const narrow: RateLimitPolicy = { name: 'narrow', limit: 2, window: hours(1), algorithm };
      const both = () => limiter.consumeAll([{ key: 'k', policy: wide }, { key: 'k', policy: narrow }]);
      expect((await both()).allowed).toBe(true);
      expect((await both()).allowed).toBe(true);
      const third = await both();
      expect(third.allowed).toBe(false);
      expect(third.results.map((r) => r.allowed)).toEqual([true, false]);
      // The wide policy was refunded for the rejected call: 2 taken, not 3.
      expect(third.results[0]!.remaining).toBe(8);
      expect((await limiter.peek('k', wide)).remaining).toBe(8);
    });

    it('opens up again when the window has passed, not before retryAfterMs', async () => {
      const window = 400;
      const policy: RateLimitPolicy = { name: 'short', limit: 2, window, algorithm };
      // Fixed windows start at multiples of their length (store clock, the same machine here): begun
      // near an edge, the second call could fall into the next window and be allowed, as it should.
      if (algorithm === 'fixed-window') await waitFor('the start of a window', () => Date.now() % window < 40, 2000, 1);
      expect((await limiter.consume('k', policy, { cost: 2 })).allowed).toBe(true);
      const rejected = await limiter.consume('k', policy);
      const rejectedAt = Date.now();
      expect(rejected.allowed).toBe(false);
      expect(rejected.retryAfterMs).toBeLessThanOrEqual(algorithm === 'sliding-window' ? 2 * window : window);
      const allowedAt = await waitFor('a call to fit again', async () => ((await limiter.consume('k', policy)).allowed ? Date.now() : 0), 5000, 5);
      // Never open before the time the rejection announced; and soon after it (on a busy machine, not instantly).
      expect(allowedAt - rejectedAt).toBeGreaterThanOrEqual(rejected.retryAfterMs - CLOCK_SLACK_MS);
      expect(allowedAt - rejectedAt).toBeLessThan(rejected.retryAfterMs + 2000);
      await waitFor('the whole quota to return', async () => (await limiter.peek('k', policy)).remaining === 2, 5000, 10);
    });
  });

  it('fixed-window: a full budget right after the window edge', async () => {
    const window = 1500;
    const policy: RateLimitPolicy = { name: 'edge-fw', limit: 10, window, algorithm: 'fixed-window' };
    expect((await limiter.consume('k', policy, { cost: 10 })).allowed).toBe(true);
    await waitFor('the next window', async () => (await limiter.peek('k', policy)).remaining === 10, 5000, 5);
    const burst = await burstUntilRejected(limiter, policy, 12);
    expect(burst.allowed).toBe(10);
  });

  it('sliding-window: right after the edge, the previous window still weighs in', async () => {
    // A window of a minute or more, so no run gets far into it however slow the machine is, and the
    // claims below are checked every time; windows are aligned to the epoch, so one whose edge comes
    // within a second is picked, and the test waits for that edge, not for a minute.
    let window = 0;
    let policy: RateLimitPolicy | undefined;
    for (let attempt = 0; !policy; attempt++) {
      expect(attempt).toBeLessThan(5);
      window = windowWithEdgeIn(60_000, 300, 800);
      const candidate: RateLimitPolicy = { name: `edge-sw-${window}`, limit: 10, window, algorithm: 'sliding-window' };
      // One call of cost 10 fills a single window (a burst of single calls could straddle an edge).
      const fill = await limiter.consume('k', candidate, { cost: 10 });
      expect(fill.allowed).toBe(true);
      // While the filled window is current, the reset lies more than one window ahead (the store's
      // clock says so); a fill that came after the edge (a slow moment) is tried again, on another window.
      if (fill.resetMs > window) policy = candidate;
    }
    await waitFor('the next window', async () => (await limiter.peek('k', policy!)).resetMs <= window, 5000, 5);
    const burst = await burstUntilRejected(limiter, policy, 12);
    // prev = 10 weighs (window - elapsed) / window, so n calls fit only while 10 * (1 - elapsed/window) + n <= 10.
    const elapsed = (burst.allowed > 0 ? 2 * window : window) - burst.rejection!.resetMs;
    expect(elapsed).toBeGreaterThanOrEqual(0);
    expect(elapsed).toBeLessThan(0.8 * window);
    expect(burst.allowed).toBeLessThanOrEqual(Math.floor((10 * elapsed) / window + 1e-9));
    // A fixed window would have allowed all 10 here.
    expect(burst.allowed).toBeLessThan(10);
    expect(burst.rejection!.retryAfterMs).toBeGreaterThan(0);
    expect(burst.rejection!.retryAfterMs).toBeLessThanOrEqual(window);
  });

  it('token-bucket: bursts up to capacity, then refills one unit per window/limit', async () => {
    const policy: RateLimitPolicy = { name: 'bucket', limit: 4, window: 800, algorithm: 'token-bucket' };
    const burst = await burstUntilRejected(limiter, policy, 6);
    expect(burst.allowed).toBe(4);
    const rejectedAt = Date.now();
    // Empty bucket: one unit comes back every 200 ms.
    expect(burst.rejection!.retryAfterMs).toBeGreaterThan(0);
    expect(burst.rejection!.retryAfterMs).toBeLessThanOrEqual(200);
    expect(burst.rejection!.resetMs).toBeLessThanOrEqual(800);
    const refilled = await waitFor('one refilled unit', async () => ((await limiter.consume('k', policy)).allowed ? Date.now() : 0), 5000, 5);
    expect(refilled - rejectedAt).toBeGreaterThanOrEqual(burst.rejection!.retryAfterMs - CLOCK_SLACK_MS);
    // Only one unit had come back: the next call does not fit yet.
    expect((await limiter.consume('k', policy)).allowed).toBe(false);
    await waitFor('a full bucket', async () => (await limiter.peek('k', policy)).remaining === 4, 5000, 10);
    expect((await burstUntilRejected(limiter, policy, 6)).allowed).toBe(4);
  });
});

/**
 * A window of at least `min` ms whose next edge (windows start at multiples of their length since
 * the epoch) is between `fromMs` and `toMs` from now, by this process's clock.
 */
function windowWithEdgeIn(min: number, fromMs: number, toMs: number): number {
  const now = Date.now();
  for (let window = min; window < 2 * min; window++) {
    const edgeIn = window - (now % window);
    if (edgeIn >= fromMs && edgeIn <= toMs) return window;
  }
  throw new Error(`no window between ${min} and ${2 * min} ms has its edge ${fromMs}..${toMs} ms from now`);
}

/** Consumes single units until one is rejected (or `max` calls); returns the count and the rejection. */
async function burstUntilRejected(
  limiter: RateLimitService,
  policy: RateLimitPolicy,
  max: number,
): Promise<{ allowed: number; rejection: RateLimitResult | undefined }> {
  let allowed = 0;
  for (let i = 0; i < max; i++) {
    const result = await limiter.consume('k', policy);
    if (!result.allowed) return { allowed, rejection: result };
    allowed++;
  }
  return { allowed, rejection: undefined };
}
