import type { ProviderName } from '../common/provider-name.js';

/** Options of the cache service (`forRoot({ cache: { ... } })`). */
export interface CacheOptions {
  /**
   * Where entries live. Env `CACHE_PROVIDER`.
   * @default 'postgres'
   */
  provider?: ProviderName;
  /**
   * TTL in ms for `set` calls that give none; `0` or unset keeps entries until deleted or evicted.
   * @default undefined (no expiry)
   */
  defaultTtl?: number;
  /**
   * Upper bound in ms of any single cache call; past it the call fails with `BallastTimeoutError`.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Postgres only: how often the sweeper deletes expired rows (and enforces `maxEntries`), in ms.
   * @default 60000
   */
  sweepIntervalMs?: number;
  /**
   * Postgres only: rows deleted per sweeper statement, so a sweep never holds long locks.
   * @default 1000
   */
  sweepBatchSize?: number;
  /**
   * Postgres only: upper bound on stored entries; past it the sweeper deletes the entries that
   * expire soonest (entries without TTL last). Unset means unbounded.
   * @default undefined
   */
  maxEntries?: number;
}
