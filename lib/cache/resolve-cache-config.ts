import type { BallastEnv } from '../core/config/ballast-env.js';
import type { ProviderName } from '../common/provider-name.js';
import { readInteger } from '../core/config/read-integer.js';
import { resolveProvider, serviceConfigured } from '../core/config/resolve-provider.js';
import type { CacheOptions } from './cache-options.interface.js';

/** The cache's options after env and defaults. */
export interface ResolvedCacheConfig {
  provider: ProviderName;
  /** The app gave `cache` options or `CACHE_PROVIDER`: the cache opens at boot, else on first use. */
  configured: boolean;
  defaultTtl: number | undefined;
  timeoutMs: number;
  sweepIntervalMs: number;
  sweepBatchSize: number;
  maxEntries: number | undefined;
}

/** Cache options plus env (`CACHE_PROVIDER`) and defaults, validated. */
export function resolveCacheConfig(given: CacheOptions | undefined, env: BallastEnv): ResolvedCacheConfig {
  const options = given ?? {};
  const defaultTtl = readInteger(options.defaultTtl, 'cache.defaultTtl', { min: 0, fallback: 0 });
  return {
    provider: resolveProvider(options.provider, 'cache.provider', env, 'CACHE_PROVIDER'),
    configured: serviceConfigured(given, env, 'CACHE_PROVIDER'),
    defaultTtl: defaultTtl === 0 ? undefined : defaultTtl,
    timeoutMs: readInteger(options.timeoutMs, 'cache.timeoutMs', { min: 1, fallback: 5000 }),
    sweepIntervalMs: readInteger(options.sweepIntervalMs, 'cache.sweepIntervalMs', { min: 1, fallback: 60_000 }),
    sweepBatchSize: readInteger(options.sweepBatchSize, 'cache.sweepBatchSize', { min: 1, fallback: 1000 }),
    maxEntries: options.maxEntries === undefined ? undefined : readInteger(options.maxEntries, 'cache.maxEntries', { min: 1, fallback: 1 }),
  };
}

/** DI token of the cache's `ResolvedCacheConfig`. */
export const CACHE_CONFIG = Symbol('CACHE_CONFIG');
