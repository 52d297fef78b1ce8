import type { BallastModuleOptions } from './ballast-options.interface.js';
import { resolveCacheConfig, type ResolvedCacheConfig } from './cache/resolve-cache-config.js';
import type { ProviderName } from './common/provider-name.js';
import type { BallastCoreConfig } from './core/config/ballast-core-config.js';
import type { BallastEnv } from './core/config/ballast-env.js';
import { resolveCoreConfig } from './core/config/resolve-core-config.js';
import { resolveQueueConfig, type ResolvedQueueConfig } from './queue/resolve-queue-config.js';
import { resolveRateLimitConfig, type ResolvedRateLimitConfig } from './rate-limit/resolve-rate-limit-config.js';

/** A Ballast service, as the module opens it. */
export type BallastServiceName = 'cache' | 'queue' | 'rateLimit';

/** What the app declared in code, seen from class metadata before anything is built (`scanDeclarations`). */
export interface BallastDeclarations {
  /** Some provider has a `@Job` method. */
  jobs: boolean;
  /** Some controller or route has `@RateLimit`. */
  rateLimits: boolean;
}

/**
 * The whole module's configuration: the core's and each service's, each resolved by its owner, and
 * the services that open at boot. Built once per module instance; nothing downstream re-validates.
 */
export interface BallastConfig {
  core: BallastCoreConfig;
  cache: ResolvedCacheConfig;
  queue: ResolvedQueueConfig;
  rateLimit: ResolvedRateLimitConfig;
  /**
   * Services opened (connected, migrated) before the app is ready: configured (their options
   * block or provider env var), or declared by `@Job` / `@RateLimit` / `rateLimit.global`. The rest
   * open on first use, and an app that never uses them opens nothing for them.
   */
  atBoot: ReadonlySet<BallastServiceName>;
}

/** DI token of the `BallastConfig`. */
export const BALLAST_CONFIG = Symbol('BALLAST_CONFIG');

/**
 * Module options plus env into a validated `BallastConfig`, or `BallastConfigError` naming the first
 * bad key. Each service reads its own block; the core reads the shared options, told which
 * providers the services use. Pure: the module passes `process.env`, tests pass a literal.
 */
export function resolveBallastConfig(
  options: BallastModuleOptions = {},
  env: BallastEnv = {},
  declared: BallastDeclarations = { jobs: false, rateLimits: false },
): BallastConfig {
  const cache = resolveCacheConfig(options.cache, env);
  const queue = resolveQueueConfig(options.queue, env);
  const rateLimit = resolveRateLimitConfig(options.rateLimit, env);
  const atBoot = new Set<BallastServiceName>();
  if (cache.configured) atBoot.add('cache');
  if (queue.configured || declared.jobs) atBoot.add('queue');
  if (rateLimit.configured || declared.rateLimits || rateLimit.global.length > 0) atBoot.add('rateLimit');
  const services = { cache, queue, rateLimit };
  const core = resolveCoreConfig(options, env, {
    used: new Set<ProviderName>([cache.provider, queue.provider, rateLimit.provider]),
    atBoot: new Set<ProviderName>([...atBoot].map((name) => services[name].provider)),
  });
  return { core, ...services, atBoot };
}
