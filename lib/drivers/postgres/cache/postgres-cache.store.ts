import type { Clock } from '../../../common/clock.js';
import type { SqlDatabase } from '../../../core/connections/sql-client.js';
import type { CacheStore, CacheStoreEntry } from '../../../cache/cache-store.interface.js';
import { cacheSql, type CacheSql } from './postgres-cache.sql.js';
import type { PostgresCacheSweeper } from './postgres-cache.sweeper.js';

/**
 * `CacheStore` on Postgres (a server or PGlite, through `SqlDatabase`): one statement per call,
 * prepared once per connection (a cache read is too cheap to parse and plan each time).
 */
export class PostgresCacheStore implements CacheStore {
  readonly provider = 'postgres' as const;
  private readonly sql: CacheSql;

  constructor(
    private readonly db: SqlDatabase,
    quotedSchema: string,
    private readonly clock: Clock,
    private readonly sweeper: PostgresCacheSweeper,
  ) {
    this.sql = cacheSql(quotedSchema);
    this.sweeper.start();
  }

  async get(key: string): Promise<string | undefined> {
    const { rows } = await this.db.queryPrepared<{ value: string }>(this.sql.get, [key, this.now()]);
    return rows[0]?.value;
  }

  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    const { rows } = await this.db.queryPrepared<{ key: string; value: string }>(this.sql.getMany, [keys, this.now()]);
    const found = new Map(rows.map((row) => [row.key, row.value]));
    return keys.map((key) => found.get(key));
  }

  async set(key: string, json: string, ttlMs: number | undefined): Promise<void> {
    await this.db.queryPrepared(this.sql.set, [key, json, this.expiry(ttlMs)]);
  }

  async setMany(entries: readonly CacheStoreEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.queryPrepared(this.sql.setMany, [
      entries.map((e) => e.key),
      entries.map((e) => e.json),
      entries.map((e) => this.expiry(e.ttlMs)),
    ]);
  }

  async delete(key: string): Promise<boolean> {
    const { rows } = await this.db.queryPrepared<{ live: boolean }>(this.sql.delete, [key, this.now()]);
    return rows[0]?.live === true;
  }

  async has(key: string): Promise<boolean> {
    const { rows } = await this.db.queryPrepared(this.sql.has, [key, this.now()]);
    return rows.length > 0;
  }

  async ttl(key: string): Promise<number | null | undefined> {
    const { rows } = await this.db.queryPrepared<{ remaining_ms: number | null }>(this.sql.ttl, [key, this.now()]);
    if (rows.length === 0) return undefined;
    const remaining = rows[0]!.remaining_ms;
    return remaining === null ? null : Math.max(0, Math.round(remaining));
  }

  async clear(): Promise<void> {
    await this.db.query(this.sql.clear);
  }

  async close(): Promise<void> {
    // Stops only the sweeper; the connection belongs to the registry.
    await this.sweeper.stop();
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private expiry(ttlMs: number | undefined): string | null {
    return ttlMs === undefined ? null : new Date(this.clock.now() + ttlMs).toISOString();
  }
}
