import type { Redis } from 'ioredis';
import type { RedisProtocolProviderName } from '../../../common/provider-name.js';
import { unlinkByPrefix } from '../../../core/connections/unlink-by-prefix.js';
import type { CacheStore, CacheStoreEntry } from '../../../cache/cache-store.interface.js';

/** Keys per SCAN page and per UNLINK during `clear()`: bounded work per round trip. */
const CLEAR_BATCH = 500;

/**
 * `CacheStore` on Valkey or Redis (one implementation; `provider` only names it). Entries are plain
 * string keys `<prefix>cache:<key>` with `SET ... PX` for expiry, so the server expires them itself.
 */
export class RedisCacheStore implements CacheStore {
  private readonly namespace: string;

  constructor(
    readonly provider: RedisProtocolProviderName,
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    this.namespace = `${keyPrefix}cache:`;
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.redis.get(this.namespace + key);
    return value ?? undefined;
  }

  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 0) return [];
    const values = await this.redis.mget(keys.map((key) => this.namespace + key));
    return values.map((value) => value ?? undefined);
  }

  async set(key: string, json: string, ttlMs: number | undefined): Promise<void> {
    if (ttlMs === undefined) await this.redis.set(this.namespace + key, json);
    else await this.redis.set(this.namespace + key, json, 'PX', ttlMs);
  }

  async setMany(entries: readonly CacheStoreEntry[]): Promise<void> {
    if (entries.length === 0) return;
    // MULTI makes the batch all-or-nothing, like the single INSERT on Postgres.
    const multi = this.redis.multi();
    for (const { key, json, ttlMs } of entries) {
      if (ttlMs === undefined) multi.set(this.namespace + key, json);
      else multi.set(this.namespace + key, json, 'PX', ttlMs);
    }
    const results = await multi.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('MULTI was discarded');
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.unlink(this.namespace + key)) > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await this.redis.exists(this.namespace + key)) > 0;
  }

  async ttl(key: string): Promise<number | null | undefined> {
    const remaining = await this.redis.pttl(this.namespace + key);
    if (remaining === -2) return undefined;
    if (remaining === -1) return null;
    return remaining;
  }

  clear(): Promise<void> {
    return unlinkByPrefix(this.redis, this.namespace, CLEAR_BATCH);
  }

  async close(): Promise<void> {
    // Nothing of its own to stop; the client belongs to the connection registry.
  }
}
