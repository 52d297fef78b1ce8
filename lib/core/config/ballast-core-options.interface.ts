import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '../../common/clock.js';
import type { PgliteInstance } from '../connections/pglite-instance.interface.js';
import type { PostgresPool } from '../connections/postgres-pool.interface.js';

/** Options of a Postgres server connection (`connectionString` or `pool`). */
export interface PostgresServerOptions {
  /**
   * Run hot statements as named prepared statements, parsed and planned once per connection.
   * Turn off behind a pooler that cannot carry them (PgBouncer in transaction mode before 1.21, or
   * without `max_prepared_statements`). Env `BALLAST_PREPARED_STATEMENTS`. No effect on PGlite.
   * @default true
   */
  preparedStatements?: boolean;
}

/**
 * Where the Postgres path connects. Give exactly one of `connectionString`, `pool`, `pglite`,
 * or `embedded`; with none (and no `DATABASE_URL`), Ballast runs embedded PGlite in memory.
 */
export type PostgresConnectionOptions =
  | {
      /** A libpq URL, e.g. `postgres://user@127.0.0.1:5432/app`. Ballast opens and closes the pool. */
      connectionString: string;
      /**
       * Connections in the pool Ballast opens.
       * @default 10
       */
      poolSize?: number;
      /** See {@link PostgresServerOptions.preparedStatements}. */
      preparedStatements?: boolean;
    }
  | {
      /** Your own `pg.Pool` (any value of the {@link PostgresPool} shape); Ballast uses it and never ends it. */
      pool: PostgresPool;
      /** See {@link PostgresServerOptions.preparedStatements}. */
      preparedStatements?: boolean;
    }
  | {
      /** Your own PGlite instance (see {@link PgliteInstance}); Ballast uses it and never closes it. */
      pglite: PgliteInstance;
    }
  | {
      /** In-process PGlite that Ballast opens: in memory, or persisted under `dataDir`. */
      embedded: {
        /** A directory for PGlite's files; env `BALLAST_PGLITE_DIR`. In memory when unset. */
        dataDir?: string;
      };
    };

/** Where a Redis-protocol provider connects: a URL Ballast opens and closes, or your own ioredis client. */
export type RedisConnectionOptions =
  | {
      /** e.g. `redis://127.0.0.1:6379/0`. */
      url: string;
    }
  | {
      /**
       * Your own ioredis client; Ballast uses it and never quits it. The type admits an ioredis
       * `Cluster`; the services do not run on a cluster yet and say so at boot.
       */
      client: Redis | Cluster;
    };

/** The options every service shares: where the stores are, and how Ballast names what it keeps there. */
export interface BallastCoreOptions {
  /** Postgres connection, shared by every service on the `postgres` provider. Env `DATABASE_URL`. */
  postgres?: PostgresConnectionOptions;
  /** Valkey connection, for services on the `valkey` provider. Env `VALKEY_URL`. */
  valkey?: RedisConnectionOptions;
  /** Redis connection, for services on the `redis` provider. Env `REDIS_URL`. */
  redis?: RedisConnectionOptions;
  /**
   * Postgres schema holding Ballast's tables; lower-case letters, digits and `_`. Env `BALLAST_SCHEMA`.
   * @default 'ballast'
   */
  schema?: string;
  /**
   * Prefix of every Valkey/Redis key Ballast writes; letters, digits and `_:.-`. Env `BALLAST_KEY_PREFIX`.
   * @default 'ballast:'
   */
  keyPrefix?: string;
  /**
   * How long, in ms, each boot step against a store may take: connecting (a refused connection is
   * retried meanwhile, for a store that starts beside the app), migrating, starting workers. Past
   * it the boot fails with a `BallastConnectionError` naming the store and the option or env var
   * that points at it. Env `BALLAST_BOOT_TIMEOUT_MS`.
   * @default 15000
   */
  bootTimeoutMs?: number;
  /**
   * The time source for expiry computed in Node (the Postgres cache). Tests pass a fake one.
   * @default the system clock
   */
  clock?: Clock;
}
