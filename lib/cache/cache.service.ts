import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { ProviderName } from '../common/provider-name.js';
import { assertKey } from '../common/assert-key.js';
import { toJson } from '../common/json-value.js';
import { CallDeadlines } from '../common/call-deadlines.js';
import type { StoreHandle } from '../core/store-handle.js';
import { InvalidTtlError, MAX_TTL } from '../errors/invalid-ttl.error.js';
import { CacheStore } from './cache-store.interface.js';
import { CACHE_CONFIG, type ResolvedCacheConfig } from './resolve-cache-config.js';
import type { CacheSetOptions } from './cache-set-options.interface.js';
import { SingleFlight } from './single-flight.js';

/**
 * The injectable cache. Values are JSON; TTLs are milliseconds. Every call is bounded by
 * `cache.timeoutMs` and fails with `BallastBackendError` (never hangs) when the store does.
 */
@Injectable()
export class CacheService implements OnModuleDestroy {
  private readonly flights = new SingleFlight<unknown>();
  private readonly deadlines: CallDeadlines;
  private readonly defaultTtl: number | undefined;

  constructor(
    @Inject(CacheStore) private readonly store: StoreHandle<CacheStore>,
    @Inject(CACHE_CONFIG) config: ResolvedCacheConfig,
  ) {
    this.deadlines = new CallDeadlines(store.provider, config.timeoutMs);
    this.defaultTtl = config.defaultTtl;
  }

  /** The backend this cache runs on. */
  get provider(): ProviderName {
    return this.store.provider;
  }

  /** The value stored under `key`, or `undefined` when absent or expired. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    assertKey(key);
    const json = await this.call('get', (store) => store.get(key));
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }

  /** Stores `value` (anything JSON round-trips) under `key`, replacing what was there. */
  async set(key: string, value: unknown, options: CacheSetOptions = {}): Promise<void> {
    assertKey(key);
    const json = toJson(value);
    const ttl = this.ttlOf(options);
    await this.call('set', (store) => store.set(key, json, ttl));
  }

  /** Deletes `key`; resolves `true` when a live entry was there. */
  del(key: string): Promise<boolean> {
    assertKey(key);
    return this.call('del', (store) => store.delete(key));
  }

  /** Whether a live entry is stored under `key`. */
  has(key: string): Promise<boolean> {
    assertKey(key);
    return this.call('has', (store) => store.has(key));
  }

  /** Remaining time to live in ms; `null` for an entry without expiry; `undefined` when absent. */
  ttl(key: string): Promise<number | null | undefined> {
    assertKey(key);
    return this.call('ttl', (store) => store.ttl(key));
  }

  /**
   * The cached value, or else the loader's, stored with `options.ttl`. Concurrent callers of one key
   * in this process share one loader call; a loader error reaches all of them and caches nothing.
   */
  async getOrSet<T>(key: string, loader: () => Promise<T> | T, options: CacheSetOptions = {}): Promise<T> {
    assertKey(key);
    const ttl = this.ttlOf(options);
    // The read is inside the flight: every caller that arrives while one is running joins it,
    // whether that flight ends in a hit, a loaded value or the loader's error.
    return this.flights.run(key, async () => {
      const cached = await this.call('getOrSet', (store) => store.get(key));
      if (cached !== undefined) return JSON.parse(cached) as T;
      const value = await loader();
      const json = toJson(value);
      await this.call('getOrSet', (store) => store.set(key, json, ttl));
      return value;
    }) as Promise<T>;
  }

  /** Values for many keys in one round trip, in the order of `keys` (`undefined` for misses). */
  async mget<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    keys.forEach((key) => assertKey(key));
    const values = await this.call('mget', (store) => store.getMany(keys));
    return values.map((json) => (json === undefined ? undefined : (JSON.parse(json) as T)));
  }

  /**
   * Stores many entries in one round trip, all or none. A key given twice keeps its last value.
   * Each entry may carry its own `ttl`; otherwise `options.ttl`, then the module default, applies.
   */
  async mset(entries: ReadonlyArray<{ key: string; value: unknown; ttl?: number }>, options: CacheSetOptions = {}): Promise<void> {
    const byKey = new Map<string, { key: string; json: string; ttlMs: number | undefined }>();
    for (const entry of entries) {
      assertKey(entry.key);
      const json = toJson(entry.value);
      const ttlMs = this.ttlOf({ ttl: entry.ttl ?? options.ttl });
      byKey.delete(entry.key);
      byKey.set(entry.key, { key: entry.key, json, ttlMs });
    }
    await this.call('mset', (store) => store.setMany([...byKey.values()]));
  }

  /** Deletes every entry of this module's namespace (its schema or key prefix) and nothing else. */
  clear(): Promise<void> {
    return this.call('clear', (store) => store.clear());
  }

  async onModuleDestroy(): Promise<void> {
    await this.store.close();
  }

  /**
   * Opening the store (first use) is not timed: PGlite alone can take seconds to start. Not async:
   * with the store open (every call but the first) it adds no promise hop of its own.
   */
  private call<T>(operation: string, work: (store: CacheStore) => Promise<T>): Promise<T> {
    const store = this.store.forCall('cache.open');
    if (store instanceof Promise) return store.then((opened) => this.deadlines.run(`cache.${operation}`, () => work(opened)));
    return this.deadlines.run(`cache.${operation}`, () => work(store));
  }

  private ttlOf(options: CacheSetOptions): number | undefined {
    const ttl = options.ttl ?? this.defaultTtl;
    if (ttl === undefined) return undefined;
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 0 || ttl > MAX_TTL) throw new InvalidTtlError(ttl);
    return ttl === 0 ? undefined : ttl;
  }
}
