import type { PostgresPool } from '../connections/postgres-pool.interface.js';
import type { PgliteInstance } from '../connections/pglite-instance.interface.js';
import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '../../common/clock.js';
import type { StoreEndpoint } from '../connections/store-endpoint.js';
import type { RedisProtocolProviderName } from '../../common/provider-name.js';

/** The Postgres connection after defaults: exactly one way to connect, and how to name it in messages. */
export type ResolvedPostgresConnection = (
  | { kind: 'url'; connectionString: string; poolSize: number; preparedStatements: boolean }
  | { kind: 'pool'; pool: PostgresPool; preparedStatements: boolean }
  | { kind: 'pglite'; pglite: PgliteInstance }
  | {
      kind: 'embedded';
      dataDir: string | undefined;
      explicitInMemory: boolean;
      /** Set in production with nothing configured: opening it (on first use) throws this instead. */
      refusal?: Error;
    }
) & { endpoint: StoreEndpoint };

export type ResolvedRedisConnection = ({ kind: 'url'; url: string } | { kind: 'client'; client: Redis | Cluster }) & { endpoint: StoreEndpoint };

/**
 * The shared options after env, defaults and validation: where the stores are and how Ballast names
 * what it keeps there. Each service resolves its own options in its folder; this core knows none.
 */
export interface BallastCoreConfig {
  schema: string;
  keyPrefix: string;
  clock: Clock;
  /** How long each boot step against a store (connect, migrate, start workers) may take. */
  bootTimeoutMs: number;
  postgres: ResolvedPostgresConnection;
  /** Only the Redis-protocol connections that were configured. */
  redisProtocol: Partial<Record<RedisProtocolProviderName, ResolvedRedisConnection>>;
}

/** DI token of the `BallastCoreConfig`. */
export const BALLAST_CORE_CONFIG = Symbol('BALLAST_CORE_CONFIG');
