import { describe, expect, it } from '@jest/globals';
import { BallastConfigError, minutes, UnknownRateLimitPolicyError, type RateLimitOptions } from '../../lib/index.js';
import { resolveBallastConfig } from '../../lib/ballast-config.js';

/** Rate-limit options are checked at boot; a bad one names its key, its value and what is allowed. */
describe('rate-limit config', () => {
  it('defaults: postgres, guard on, both header sets, allow on store errors, 1 s timeout', () => {
    const { rateLimit } = resolveBallastConfig({}, {});
    expect(rateLimit).toMatchObject({
      provider: 'postgres',
      global: [],
      guard: true,
      headers: true,
      legacyHeaders: true,
      timeoutMs: 1000,
      onStoreError: 'allow',
      errorLogIntervalMs: 30_000,
      pruneIntervalMs: 60_000,
      pruneBatchSize: 1000,
    });
    expect(rateLimit.policies.size).toBe(0);
  });

  it('reads RATE_LIMIT_PROVIDER, and an option in code wins over it', () => {
    const env = { RATE_LIMIT_PROVIDER: ' Redis ', REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(resolveBallastConfig({}, env).rateLimit.provider).toBe('redis');
    expect(resolveBallastConfig({ rateLimit: { provider: 'postgres' } }, env).rateLimit.provider).toBe('postgres');
  });

  it('fills policy defaults and inherits the module failure policy', () => {
    const { rateLimit } = resolveBallastConfig(
      { rateLimit: { onStoreError: 'deny', policies: { api: { limit: 10, window: minutes(1) }, open: { limit: 1, window: 1, onStoreError: 'allow' } } } },
      {},
    );
    expect(rateLimit.policies.get('api')).toEqual({
      name: 'api',
      limit: 10,
      window: 60_000,
      algorithm: 'sliding-window',
      key: 'ip',
      durable: false,
      onStoreError: 'deny',
    });
    expect(rateLimit.policies.get('open')?.onStoreError).toBe('allow');
  });

  const bad: Array<{ title: string; options: RateLimitOptions; env?: Record<string, string>; key: string; value: unknown; allowed: RegExp }> = [
    { title: 'zero limit', options: { policies: { a: { limit: 0, window: 1000 } } }, key: 'rateLimit.policies.a.limit', value: 0, allowed: /integer >= 1/ },
    { title: 'fractional limit', options: { policies: { a: { limit: 1.5, window: 1000 } } }, key: 'rateLimit.policies.a.limit', value: 1.5, allowed: /integer >= 1/ },
    { title: 'window in seconds by mistake', options: { policies: { a: { limit: 5, window: 0.5 } } }, key: 'rateLimit.policies.a.window', value: 0.5, allowed: /milliseconds/ },
    {
      title: 'unknown algorithm',
      options: { policies: { a: { limit: 5, window: 1000, algorithm: 'leaky-bucket' as never } } },
      key: 'rateLimit.policies.a.algorithm',
      value: 'leaky-bucket',
      allowed: /'fixed-window', 'sliding-window', 'token-bucket'/,
    },
    { title: 'unknown key kind', options: { policies: { a: { limit: 5, window: 1000, key: 'header' as never } } }, key: 'rateLimit.policies.a.key', value: 'header', allowed: /'ip', 'user'/ },
    {
      title: 'bad failure policy',
      options: { policies: { a: { limit: 5, window: 1000, onStoreError: 'ignore' as never } } },
      key: 'rateLimit.policies.a.onStoreError',
      value: 'ignore',
      allowed: /'allow' or 'deny'/,
    },
    { title: 'policy name with a quote', options: { policies: { 'a"b': { limit: 5, window: 1000 } } }, key: 'rateLimit.policies.a"b', value: 'a"b', allowed: /policy name/ },
    { title: 'zero timeout', options: { timeoutMs: 0 }, key: 'rateLimit.timeoutMs', value: 0, allowed: /integer >= 1/ },
    { title: 'headers not a boolean', options: { headers: 'yes' as never }, key: 'rateLimit.headers', value: 'yes', allowed: /true or false/ },
    { title: 'unknown provider in env', options: {}, env: { RATE_LIMIT_PROVIDER: 'memcached' }, key: 'RATE_LIMIT_PROVIDER', value: 'memcached', allowed: /'postgres', 'valkey', 'redis'/ },
  ];

  it.each(bad)('$title', ({ options, env, key, value, allowed }) => {
    const error = (() => {
      try {
        resolveBallastConfig({ rateLimit: options }, env ?? {});
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(BallastConfigError);
    expect((error as BallastConfigError).key).toBe(key);
    expect((error as BallastConfigError).value).toBe(value);
    expect((error as BallastConfigError).allowed).toMatch(allowed);
  });

  it('a global policy must be defined', () => {
    const error = (() => {
      try {
        resolveBallastConfig({ rateLimit: { policies: { api: { limit: 5, window: 1000 } }, global: ['api', 'apii'] } }, {});
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(UnknownRateLimitPolicyError);
    expect(error).toMatchObject({ policy: 'apii', where: 'rateLimit.global', known: ['api'] });
  });

  it('redis chosen for rate limits needs a redis connection', () => {
    expect(() => resolveBallastConfig({ rateLimit: { provider: 'redis' } }, {})).toThrow(/REDIS_URL/);
  });
});
