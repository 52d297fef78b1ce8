import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import {
  CacheService,
  InvalidKeyError,
  InvalidTtlError,
  MAX_JSON_DEPTH,
  MAX_KEY_LENGTH,
  MAX_TTL,
  SerializationError,
  seconds,
} from '../../lib/index.js';
import { ALL_BACKENDS, setupBackend, type BackendSetup, type TestBackend } from '../support/backends.js';
import { bootBallast } from '../support/boot.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { waitFor } from '../support/wait-for.js';

afterAll(closeSharedPglite);

/**
 * The cache contract: every test runs unchanged on each backend, so providers cannot drift apart.
 * Backend-specific behaviour (the Postgres sweeper, controllable clock) lives in its own suites.
 */
describe.each(ALL_BACKENDS)('cache contract on %s', (backend: TestBackend) => {
  let setup: BackendSetup;
  let moduleRef: TestingModule;
  let cache: CacheService;

  beforeEach(async () => {
    setup = await setupBackend(backend, 'cache');
    moduleRef = await bootBallast({ ...setup.options, cache: { provider: setup.provider } });
    cache = moduleRef.get(CacheService);
  });

  afterEach(async () => {
    await cache.clear();
    await moduleRef.close();
    await setup.cleanup();
  });

  it('runs on the chosen provider', () => {
    expect(cache.provider).toBe(setup.provider);
  });

  it('stores and returns JSON values of every kind', async () => {
    const values: Record<string, unknown> = {
      str: 'héllo ✓',
      num: 42.5,
      zero: 0,
      neg: -7,
      t: true,
      f: false,
      nul: null,
      arr: [1, 'two', { three: [3] }],
      obj: { nested: { deep: ['x', null, 1.25] }, empty: {} },
      emptyStr: '',
    };
    for (const [key, value] of Object.entries(values)) await cache.set(key, value);
    for (const [key, value] of Object.entries(values)) expect(await cache.get(key)).toEqual(value);
  });

  it('returns undefined for a missing key and distinguishes it from a stored null', async () => {
    expect(await cache.get('missing')).toBeUndefined();
    await cache.set('nothing', null);
    expect(await cache.get('nothing')).toBeNull();
    expect(await cache.has('nothing')).toBe(true);
    expect(await cache.has('missing')).toBe(false);
  });

  it('overwrites a value and its ttl', async () => {
    await cache.set('k', 1, { ttl: seconds(60) });
    await cache.set('k', 2);
    expect(await cache.get('k')).toBe(2);
    expect(await cache.ttl('k')).toBeNull();
  });

  it('deletes, reporting whether the key was there', async () => {
    await cache.set('k', 'v');
    expect(await cache.del('k')).toBe(true);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.del('k')).toBe(false);
  });

  it('reports the remaining ttl, null without expiry and undefined when absent', async () => {
    await cache.set('short', 'v', { ttl: seconds(30) });
    await cache.set('forever', 'v');
    const remaining = await cache.ttl('short');
    expect(remaining).toBeGreaterThan(seconds(25));
    expect(remaining).toBeLessThanOrEqual(seconds(30));
    expect(await cache.ttl('forever')).toBeNull();
    expect(await cache.ttl('absent')).toBeUndefined();
  });

  it('treats ttl 0 as no expiry', async () => {
    await cache.set('k', 'v', { ttl: 0 });
    expect(await cache.ttl('k')).toBeNull();
  });

  it('hides an entry as soon as its ttl passes', async () => {
    await cache.set('brief', 'v', { ttl: 40 });
    await cache.set('stays', 'v', { ttl: seconds(60) });
    expect(await cache.get('brief')).toBe('v');
    await waitFor('the entry to expire', async () => (await cache.get('brief')) === undefined, 3000);
    expect(await cache.has('brief')).toBe(false);
    expect(await cache.ttl('brief')).toBeUndefined();
    expect(await cache.mget(['brief', 'stays'])).toEqual([undefined, 'v']);
  });

  it('gets and sets many keys in one call, in order', async () => {
    await cache.mset([
      { key: 'a', value: 1 },
      { key: 'b', value: { two: 2 }, ttl: seconds(60) },
      { key: 'a', value: 'last wins' },
    ]);
    expect(await cache.mget(['b', 'missing', 'a'])).toEqual([{ two: 2 }, undefined, 'last wins']);
    const ttlB = await cache.ttl('b');
    expect(ttlB).toBeGreaterThan(seconds(50));
    expect(await cache.ttl('a')).toBeNull();
    expect(await cache.mget([])).toEqual([]);
    await cache.mset([]);
  });

  it('applies mset options.ttl to entries without their own', async () => {
    await cache.mset([{ key: 'x', value: 1 }, { key: 'y', value: 2, ttl: 0 }], { ttl: seconds(60) });
    expect(await cache.ttl('x')).toBeGreaterThan(seconds(50));
    expect(await cache.ttl('y')).toBeNull();
  });

  it('runs one loader for concurrent getOrSet callers of a key and caches its value', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const loader = async () => {
      calls++;
      await gate;
      return { computed: calls };
    };
    const waiters = Array.from({ length: 20 }, () => cache.getOrSet('sf', loader, { ttl: seconds(60) }));
    await waitFor('the loader to start', () => calls === 1);
    release();
    const results = await Promise.all(waiters);
    expect(calls).toBe(1);
    for (const result of results) expect(result).toEqual({ computed: 1 });
    expect(await cache.get('sf')).toEqual({ computed: 1 });
    expect(await cache.ttl('sf')).toBeGreaterThan(seconds(50));
    // A later call is a cache hit: the loader does not run again.
    expect(await cache.getOrSet('sf', loader)).toEqual({ computed: 1 });
    expect(calls).toBe(1);
  });

  it('passes a loader error to every waiter and caches nothing', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const loader = async (): Promise<string> => {
      calls++;
      await gate;
      throw new Error('upstream down');
    };
    const waiters = Array.from({ length: 5 }, () => cache.getOrSet('fails', loader).then(() => 'resolved', (e: Error) => e.message));
    await waitFor('the loader to start', () => calls === 1);
    release();
    expect(await Promise.all(waiters)).toEqual(Array(5).fill('upstream down'));
    expect(calls).toBe(1);
    expect(await cache.has('fails')).toBe(false);
    // The failure is not remembered: the next call runs the loader again.
    expect(await cache.getOrSet('fails', async () => 'recovered')).toBe('recovered');
  });

  it('rejects values JSON cannot round-trip, writing nothing', async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const bad: Array<[string, unknown]> = [
      ['function', () => 1],
      ['bigint', 10n],
      ['undefined', undefined],
      ['nested undefined', { a: undefined }],
      ['cycle', cyclic],
      ['NaN', Number.NaN],
      ['Infinity', [Infinity]],
      ['Date', new Date()],
      ['Map', new Map()],
      ['symbol', Symbol('s')],
      ['NUL in string', 'a\u0000b'],
      ['lone surrogate', '😀'.slice(0, 1)],
      ['lone surrogate in a key', { ['k\udc00']: 1 }],
      ['nested 10,000 deep', nested(10_000)],
      ['a getter that throws', throwingGetter()],
    ];
    for (const [label, value] of bad) {
      await expect(cache.set(`bad:${label}`, value)).rejects.toBeInstanceOf(SerializationError);
      expect(await cache.has(`bad:${label}`)).toBe(false);
    }
    await expect(cache.mset([{ key: 'ok', value: 1 }, { key: 'bad', value: 5n }])).rejects.toBeInstanceOf(SerializationError);
    expect(await cache.has('ok')).toBe(false);
    await expect(cache.getOrSet('loader-bad', async () => 5n)).rejects.toBeInstanceOf(SerializationError);
    expect(await cache.has('loader-bad')).toBe(false);
  });

  it('names the offending path in a serialization error', async () => {
    const error = await cache.set('k', { user: { createdAt: new Date() } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as SerializationError).path).toBe('$.user.createdAt');
    const halfEmoji = await cache.set('k', { title: 'hi 😀'.slice(0, 4) }).catch((e: unknown) => e);
    expect(halfEmoji).toMatchObject({ path: '$.title', reason: expect.stringContaining('lone UTF-16 surrogate') });
    // A whole emoji is fine.
    await cache.set('k', { title: 'hi 😀' });
    expect(await cache.get('k')).toEqual({ title: 'hi 😀' });
  });

  it('rejects bad keys and ttls with typed errors', async () => {
    await expect(cache.get('')).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(cache.set('x'.repeat(MAX_KEY_LENGTH + 1), 1)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(cache.get(42 as unknown as string)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(cache.mget(['ok', ''])).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(cache.set('k', 1, { ttl: -1 })).rejects.toBeInstanceOf(InvalidTtlError);
    await expect(cache.set('k', 1, { ttl: 1.5 })).rejects.toBeInstanceOf(InvalidTtlError);
    expect(await cache.has('k')).toBe(false);
    const longest = 'k'.repeat(MAX_KEY_LENGTH);
    await cache.set(longest, 'fits');
    expect(await cache.get(longest)).toBe('fits');
  });

  it('gives objects back with their keys in the order they were stored', async () => {
    const value = { zeta: 1, alpha: { b: 2, a: 1, '10': 'ten', '2': 'two' }, mid: [{ y: 1, x: 2 }], 'long key name': true, a: null };
    await cache.set('ordered', value);
    expect(JSON.stringify(await cache.get('ordered'))).toBe(JSON.stringify(value));
    await cache.mset([{ key: 'ordered-many', value }]);
    expect(JSON.stringify((await cache.mget(['ordered-many']))[0])).toBe(JSON.stringify(value));
  });

  it('accepts values nested up to MAX_JSON_DEPTH and refuses deeper ones with a SerializationError', async () => {
    await cache.set('deep', nested(MAX_JSON_DEPTH - 1));
    expect(JSON.stringify(await cache.get('deep'))).toBe(JSON.stringify(nested(MAX_JSON_DEPTH - 1)));
    const error = await cache.set('deeper', nested(MAX_JSON_DEPTH + 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as SerializationError).reason).toMatch(/nested deeper than/);
  });

  it('refuses keys every store would change (NUL, a lone surrogate) and TTLs past 100 years, the same on every provider', async () => {
    for (const key of ['a\u0000b', '\ud800', 'x\udbff', '😀'.slice(1)]) {
      await expect(cache.set(key, 1)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(cache.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
    }
    // Whole characters are fine, and distinct.
    await cache.set('\ufffd', 'replacement');
    await cache.set('😀', 'emoji');
    expect(await cache.get('\ufffd')).toBe('replacement');
    expect(await cache.get('😀')).toBe('emoji');
    await expect(cache.set('k', 1, { ttl: 2.5e14 })).rejects.toBeInstanceOf(InvalidTtlError);
    await expect(cache.set('k', 1, { ttl: MAX_TTL + 1 })).rejects.toBeInstanceOf(InvalidTtlError);
    await cache.set('k', 1, { ttl: MAX_TTL });
    expect(await cache.get('k')).toBe(1);
  });

  it('keeps keys with unusual characters distinct', async () => {
    const keys = ['a:b', 'a*', 'a?', '[a]', "o'brien", 'emoji 🚀', 'a\\b', '%_'];
    for (const [i, key] of keys.entries()) await cache.set(key, i);
    for (const [i, key] of keys.entries()) expect(await cache.get(key)).toBe(i);
  });

  it('clear() empties its own namespace and leaves another module instance untouched', async () => {
    const other = await setupBackend(backend, 'cache_other');
    const otherRef = await bootBallast({ ...other.options, cache: { provider: other.provider } });
    const otherCache = otherRef.get(CacheService);
    try {
      await cache.mset(Array.from({ length: 1200 }, (_, i) => ({ key: `k${i}`, value: i })));
      await otherCache.set('k1', 'other');
      await cache.clear();
      expect(await cache.has('k1')).toBe(false);
      expect(await cache.mget(['k0', 'k599', 'k1199'])).toEqual([undefined, undefined, undefined]);
      expect(await otherCache.get('k1')).toBe('other');
    } finally {
      await otherCache.clear();
      await otherRef.close();
      await other.cleanup();
    }
  });
});

/** `{ d: { d: ... 1 } }`, `depth` objects deep. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { d: value };
  return value;
}

/** A plain object whose property cannot be read. */
function throwingGetter(): object {
  return Object.defineProperty({}, 'broken', { enumerable: true, get: () => { throw new Error('no'); } });
}
