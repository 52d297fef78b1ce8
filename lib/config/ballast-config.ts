import type { Pool } from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import type { Redis } from 'ioredis';
import type { Clock } from '../common/clock.js';
import type { RedisProtocolProviderName } from '../common/provider-name.js';
import type { ResolvedCacheConfig } from '../cache/resolve-cache-config.js';
import type { ResolvedRateLimitConfig } from '../rate-limit/resolve-rate-limit-config.js';
import type { ResolvedQueueConfig } from '../queue/resolve-queue-config.js';

/** The Postgres connection after defaults: exactly one way to connect. */
export type ResolvedPostgresConnection =
  | { kind: 'url'; connectionString: string; poolSize: number; preparedStatements: boolean }
  | { kind: 'pool'; pool: Pool; preparedStatements: boolean }
  | { kind: 'pglite'; pglite: PGlite }
  | { kind: 'embedded'; dataDir: string | undefined };

export type ResolvedRedisConnection = { kind: 'url'; url: string } | { kind: 'client'; client: Redis };

/**
 * Options after env, defaults and validation: what every provider factory reads. Built once per
 * module instance by `resolveBallastConfig`; nothing downstream re-validates.
 */
export interface BallastConfig {
  schema: string;
  keyPrefix: string;
  clock: Clock;
  postgres: ResolvedPostgresConnection;
  /** Only the Redis-protocol connections that were configured. */
  redisProtocol: Partial<Record<RedisProtocolProviderName, ResolvedRedisConnection>>;
  cache: ResolvedCacheConfig;
  queue: ResolvedQueueConfig;
  rateLimit: ResolvedRateLimitConfig;
}
