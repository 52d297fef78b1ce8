import type { CacheStore } from '../cache/cache-store.interface.js';
import type { ResolvedCacheConfig } from '../cache/resolve-cache-config.js';
import type { ProviderName } from '../common/provider-name.js';
import type { BallastCoreConfig } from '../core/config/ballast-core-config.js';
import type { BallastConnections } from '../core/connections/ballast-connections.js';
import type { JobStore, JobWakeup } from '../queue/job-store.interface.js';
import type { QueueBackend } from '../queue/queue-backend.interface.js';
import type { ResolvedQueueConfig } from '../queue/resolve-queue-config.js';
import type { RateLimitStore } from '../rate-limit/rate-limit-store.interface.js';
import type { ResolvedRateLimitConfig } from '../rate-limit/resolve-rate-limit-config.js';

/** What a driver gets to open a service's store: the provider, the shared config and connections, and the service's own options. */
export interface DriverContext<Config> {
  provider: ProviderName;
  core: BallastCoreConfig;
  connections: BallastConnections;
  config: Config;
}

/**
 * A queue as a driver opens it: a `JobStore` (with its wake-up) that the module runs with the SQL
 * runner, or a whole backend that brings its own runner (BullMQ).
 */
export type OpenedQueue = { kind: 'job-store'; store: JobStore; wakeup: JobWakeup; label: string } | { kind: 'backend'; backend: QueueBackend };

/**
 * One backend's implementation of the three services, picked by provider name in `driver.registry.ts`.
 * Each method migrates what it needs and returns an open store; connections belong to `BallastConnections`.
 */
export interface BallastDriver {
  cache(context: DriverContext<ResolvedCacheConfig>): Promise<CacheStore>;
  queue(context: DriverContext<ResolvedQueueConfig>): Promise<OpenedQueue>;
  rateLimit(context: DriverContext<ResolvedRateLimitConfig>): Promise<RateLimitStore>;
}
