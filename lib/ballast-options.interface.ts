import type { BallastCoreOptions } from './core/config/ballast-core-options.interface.js';
import type { CacheOptions } from './cache/cache-options.interface.js';
import type { QueueOptions } from './queue/queue-options.interface.js';
import type { RateLimitOptions } from './rate-limit/rate-limit-options.interface.js';

/**
 * Options of `BallastModule.forRoot()`. Every field is optional; env vars fill what is left out.
 * A service block given here (or its provider env var) makes that service open at boot.
 */
export interface BallastModuleOptions extends BallastCoreOptions {
  /** The cache service: provider and tuning. */
  cache?: CacheOptions;
  /** The job queue: provider, workers on/off, polling and shutdown timing. */
  queue?: QueueOptions;
  /** Rate limits: provider, named policies, a global policy, headers and failure policy. */
  rateLimit?: RateLimitOptions;
}
