import type { PostgresPool } from '../connections/postgres-pool.interface.js';
import type { PgliteInstance } from '../connections/pglite-instance.interface.js';
import type { Redis } from 'ioredis';
import type { Clock } from '../../common/clock.js';
import type { StoreEndpoint } from '../connections/store-endpoint.js';
import type { RedisProtocolProviderName } from '../../common/provider-name.js';
import type { ResolvedCacheConfig } from '../../cache/resolve-cache-config.js';
import type { ResolvedRateLimitConfig } from '../../rate-limit/resolve-rate-limit-config.js';
import type { ResolvedQueueConfig } from '../../queue/resolve-queue-config.js';

/** The Postgres connection after defaults: exactly one way to connect, and how to name it in messages. */
export type ResolvedPostgresConnection = (
  | { kind: 'url'; connectionString: string; poolSize: number; preparedStatements: boolean }
  | { kind: 'pool'; pool: PostgresPool; preparedStatements: boolean }
  | { kind: 'pglite'; pglite: PgliteInstance }
  | { kind: 'embedded'; dataDir: string | undefined; explicitInMemory: boolean }
) & { endpoint: StoreEndpoint };

export type ResolvedRedisConnection = ({ kind: 'url'; url: string } | { kind: 'client'; client: Redis }) & { endpoint: StoreEndpoint };

/**
 * Options after env, defaults and validation: what every provider factory reads. Built once per
 * module instance by `resolveBallastConfig`; nothing downstream re-validates.
 */
export interface BallastConfig {
  schema: string;
  keyPrefix: string;
  clock: Clock;
  /** How long each boot step against a store (connect, migrate, start workers) may take. */
  bootTimeoutMs: number;
  postgres: ResolvedPostgresConnection;
  /** Only the Redis-protocol connections that were configured. */
  redisProtocol: Partial<Record<RedisProtocolProviderName, ResolvedRedisConnection>>;
  cache: ResolvedCacheConfig;
  queue: ResolvedQueueConfig;
  rateLimit: ResolvedRateLimitConfig;
}
