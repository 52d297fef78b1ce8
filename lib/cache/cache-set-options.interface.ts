/** Per-call options of `CacheService.set`, `mset` and `getOrSet`. */
export interface CacheSetOptions {
  /**
   * Time to live in ms (`seconds(30)`); `0` keeps the entry until deleted.
   * @default the module's `cache.defaultTtl`
   */
  ttl?: number;
}
