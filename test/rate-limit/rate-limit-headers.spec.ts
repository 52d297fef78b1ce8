import { describe, expect, it } from '@jest/globals';
import { BallastBackendError, type RateLimitResult } from '../../lib/index.js';
import { addressBlock } from '../../lib/rate-limit/client-address.js';
import { rateLimitHeaders } from '../../lib/rate-limit/rate-limit.headers.js';
import { describeState, stateAt } from '../../lib/rate-limit/rate-limit-state.js';
import { resolveRateLimitPolicy } from '../../lib/rate-limit/resolve-rate-limit-policy.js';

const policy = (name: string, limit: number, window: number) => resolveRateLimitPolicy({ name, limit, window }, name, { onStoreError: 'allow' });
const result = (over: Partial<RateLimitResult>): RateLimitResult => ({ allowed: true, limit: 10, remaining: 5, resetMs: 30_000, retryAfterMs: 0, ...over });

describe('rate-limit headers', () => {
  it('lists every policy in the IETF fields and the tightest in X-RateLimit-*', () => {
    const headers = Object.fromEntries(
      rateLimitHeaders(
        [
          { policy: policy('burst', 10, 1000), result: result({ limit: 10, remaining: 7, resetMs: 400 }) },
          { policy: policy('hourly', 1000, 3_600_000), result: result({ limit: 1000, remaining: 3, resetMs: 1_800_001 }) },
        ],
        { draft: true, legacy: true },
      ),
    );
    expect(headers).toEqual({
      'RateLimit-Policy': '"burst";q=10;w=1, "hourly";q=1000;w=3600',
      RateLimit: '"burst";r=7;t=1, "hourly";r=3;t=1801',
      'X-RateLimit-Limit': '1000',
      'X-RateLimit-Remaining': '3',
      'X-RateLimit-Reset': '1801',
    });
  });

  it('gives the README example: a sliding window is fully restored up to two windows later', () => {
    const login = resolveRateLimitPolicy({ name: 'login', limit: 5, window: 900_000 }, 'login', { onStoreError: 'allow' });
    const windowStart = Date.UTC(2030, 0, 1, 12, 0, 0);
    const now = windowStart + 90_000;
    // Four attempts in this window, none in the one before.
    const state = stateAt(login, { windowStart, used: 4, prevUsed: 0 }, now);
    const verdict = describeState(login, state, now, true, 1);
    const headers = Object.fromEntries(rateLimitHeaders([{ policy: login, result: verdict }], { draft: true, legacy: true }));
    expect(headers.RateLimit).toBe('"login";r=1;t=1710');
    expect(headers['X-RateLimit-Reset']).toBe('1710');
    expect(verdict.resetMs).toBeGreaterThan(login.window);
    expect(verdict.resetMs).toBeLessThanOrEqual(2 * login.window);
  });

  it('on rejection, t and X-RateLimit-Reset say when the request would fit; the rejecting policy is the tightest', () => {
    const headers = Object.fromEntries(
      rateLimitHeaders(
        [
          { policy: policy('a', 10, 60_000), result: result({ remaining: 0, resetMs: 50_000 }) },
          { policy: policy('b', 5, 60_000), result: result({ limit: 5, allowed: false, remaining: 0, resetMs: 90_000, retryAfterMs: 12_300 }) },
        ],
        { draft: true, legacy: true },
      ),
    );
    expect(headers['RateLimit']).toBe('"a";r=0;t=50, "b";r=0;t=13');
    expect(headers['X-RateLimit-Limit']).toBe('5');
    expect(headers['X-RateLimit-Reset']).toBe('13');
  });

  it('leaves out verdicts made by the failure policy, and each header set can be turned off', () => {
    const degraded = { policy: policy('down', 10, 1000), result: result({ storeError: new BallastBackendError('redis', 'rateLimit.consume', 'refused') }) };
    expect(rateLimitHeaders([degraded], { draft: true, legacy: true })).toEqual([]);
    const ok = { policy: policy('ok', 10, 1000), result: result({}) };
    expect(rateLimitHeaders([degraded, ok], { draft: false, legacy: true }).map(([name]) => name)).toEqual(['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']);
    expect(rateLimitHeaders([ok], { draft: true, legacy: false }).map(([name]) => name)).toEqual(['RateLimit-Policy', 'RateLimit']);
  });
});

describe('client address blocks', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:abcd:12::1', '2001:db8:abcd:12::/64'],
    ['2001:0db8:abcd:0012:ffff:ffff:ffff:ffff', '2001:db8:abcd:12::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['not-an-address', 'not-an-address'],
  ])('%s -> %s', (address, block) => {
    expect(addressBlock(address)).toBe(block);
  });
});
