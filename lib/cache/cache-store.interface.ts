import type { ProviderName } from '../common/provider-name.js';

/** One entry for `setMany`; `ttlMs` undefined means no expiry. */
export interface CacheStoreEntry {
  key: string;
  json: string;
  ttlMs: number | undefined;
}

/**
 * The cache's backend seam. Stores move JSON text and never see user values; validation, timeouts
 * and single-flight live in `CacheService`, so every store behaves the same by construction.
 */
export interface CacheStore {
  readonly provider: ProviderName;
  get(key: string): Promise<string | undefined>;
  getMany(keys: readonly string[]): Promise<(string | undefined)[]>;
  set(key: string, json: string, ttlMs: number | undefined): Promise<void>;
  setMany(entries: readonly CacheStoreEntry[]): Promise<void>;
  /** Resolves `true` when the key existed. */
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  /** Remaining ms; `null` for an entry without expiry; `undefined` when the key is absent. */
  ttl(key: string): Promise<number | null | undefined>;
  /** Removes every entry of this module's namespace, and nothing else. */
  clear(): Promise<void>;
  /** Stops background work (the sweeper). Connections are closed by their registry, not here. */
  close(): Promise<void>;
}

/** DI token of the active `CacheStore`. */
export const CacheStore = Symbol('CacheStore');
