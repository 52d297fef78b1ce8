import type { Provider } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { BALLAST_CONFIG, resolveBallastConfig, type BallastConfig } from './ballast-config.js';
import { scanDeclarations } from './ballast-declarations.js';
import { BALLAST_MODULE_OPTIONS } from './ballast.module-definition.js';
import type { BallastModuleOptions } from './ballast-options.interface.js';
import { storeProviders } from './ballast-stores.providers.js';
import { cacheExports, cacheProviders } from './cache/cache.providers.js';
import { CACHE_CONFIG } from './cache/resolve-cache-config.js';
import { BALLAST_CORE_CONFIG } from './core/config/ballast-core-config.js';
import { BallastConnections } from './core/connections/ballast-connections.js';
import { queueExports, queueProviders } from './queue/queue.providers.js';
import { QUEUE_CONFIG } from './queue/resolve-queue-config.js';
import { RATE_LIMITS_USED, rateLimitExports, rateLimitProviders } from './rate-limit/rate-limit.providers.js';
import { RATE_LIMIT_CONFIG } from './rate-limit/resolve-rate-limit-config.js';
import { RateLimitService } from './rate-limit/rate-limit.service.js';
import { JOB_RATE_LIMITER, type JobRateLimiter } from './queue/job-rate-limiter.interface.js';
import { customClientKey } from './rate-limit/rate-limit-client-key.js';

/** Each part of the config under its owner's token: a service injects its own options and nothing else. */
const configParts: Provider[] = [
  { provide: BALLAST_CORE_CONFIG, inject: [BALLAST_CONFIG], useFactory: (config: BallastConfig) => config.core },
  { provide: CACHE_CONFIG, inject: [BALLAST_CONFIG], useFactory: (config: BallastConfig) => config.cache },
  { provide: QUEUE_CONFIG, inject: [BALLAST_CONFIG], useFactory: (config: BallastConfig) => config.queue },
  { provide: RATE_LIMIT_CONFIG, inject: [BALLAST_CONFIG], useFactory: (config: BallastConfig) => config.rateLimit },
  { provide: RATE_LIMITS_USED, inject: [BALLAST_CONFIG], useFactory: (config: BallastConfig) => config.atBoot.has('rateLimit') },
];

/**
 * Jobs under `@Job({ rateLimit })` take their units from the app's `RateLimitService`: the same
 * policies and counters as its routes. Bound here, where the services meet, so the queue never
 * imports the rate limiter.
 */
const jobRateLimiter: Provider = {
  provide: JOB_RATE_LIMITER,
  inject: [RateLimitService],
  useFactory: (rateLimits: RateLimitService): JobRateLimiter => ({
    check: (policy, where) => void rateLimits.resolve(policy, where),
    consume: async (key, policy) => {
      // Counted as a route's custom key is, so `@RateLimit` routes keyed by the same value share it.
      const result = await rateLimits.consume(customClientKey(key), policy);
      return { allowed: result.allowed, retryAfterMs: result.retryAfterMs, storeFailed: result.storeError !== undefined };
    },
  }),
};

/**
 * The module's providers: the resolved config (env read here, at boot, so a bad value fails the
 * boot; `@Job` and `@RateLimit` read from class metadata to know what opens at boot), the
 * connection registry, each service's store (from its provider's driver), and each service's own
 * providers.
 */
export const ballastProviders: Provider[] = [
  {
    provide: BALLAST_CONFIG,
    inject: [BALLAST_MODULE_OPTIONS, DiscoveryService, MetadataScanner],
    useFactory: (options: BallastModuleOptions | undefined, discovery: DiscoveryService, scanner: MetadataScanner) =>
      resolveBallastConfig(options ?? {}, process.env, scanDeclarations(discovery, scanner)),
  },
  ...configParts,
  BallastConnections,
  ...storeProviders,
  ...cacheProviders,
  ...queueProviders,
  ...rateLimitProviders,
  jobRateLimiter,
];

/**
 * What `BallastModule` exports to the app: the services and the guard, and the rate limiter's
 * options, which the guard needs when an app binds it itself (`@UseGuards(RateLimitGuard)`: Nest
 * builds it in the app's module).
 */
export const ballastExports = [...cacheExports, ...queueExports, ...rateLimitExports, RATE_LIMIT_CONFIG];
