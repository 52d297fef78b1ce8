import type { BallastCoreOptions, PostgresConnectionOptions, RedisConnectionOptions } from './ballast-core-options.interface.js';
import type { BallastCoreConfig, ResolvedPostgresConnection, ResolvedRedisConnection } from './ballast-core-config.js';
import type { ProviderName, RedisProtocolProviderName } from '../../common/provider-name.js';
import { Cluster, type Redis } from 'ioredis';
import { systemClock } from '../../common/clock.js';
import { BallastConfigError } from '../../errors/ballast-config.error.js';
import { isSafeIdentifier, isSafeKeyPrefix, SAFE_IDENTIFIER, SAFE_KEY_PREFIX } from './identifiers.js';
import { readInteger } from './read-integer.js';
import type { BallastEnv } from './ballast-env.js';
import { pickOption } from './pick-option.js';
import { readFlag } from './read-flag.js';
import { hostAndPort, redactUrl } from '../connections/store-endpoint.js';

export type { BallastEnv };

/**
 * Turns the shared options plus env into a validated `BallastCoreConfig`, or throws
 * `BallastConfigError` naming the first bad key. `used` are the providers the services picked: a
 * connection is checked only when a service runs on it. Pure: the module passes `process.env`,
 * tests pass a literal.
 */
export function resolveCoreConfig(
  options: BallastCoreOptions,
  env: BallastEnv,
  providers: {
    /** Providers of every service: their connections are checked. */
    used: ReadonlySet<ProviderName>;
    /** Providers of the services that open at boot. */
    atBoot: ReadonlySet<ProviderName>;
  },
): BallastCoreConfig {
  const { used } = providers;
  const schema = pickOption(options.schema, 'schema', env, 'BALLAST_SCHEMA') ?? { value: 'ballast', key: 'schema' };
  if (!isSafeIdentifier(schema.value)) {
    throw new BallastConfigError(schema.key, schema.value, `a lower-case SQL identifier matching ${SAFE_IDENTIFIER}`);
  }
  if (schema.value.startsWith('pg_') || schema.value === 'information_schema') {
    // Postgres reserves these for its own catalogs (a server refuses CREATE SCHEMA pg_x; PGlite would
    // even create tables in pg_catalog).
    throw new BallastConfigError(schema.key, schema.value, "a schema name not starting with 'pg_' and not 'information_schema' (Postgres reserves them)");
  }
  const keyPrefix = pickOption(options.keyPrefix, 'keyPrefix', env, 'BALLAST_KEY_PREFIX') ?? { value: 'ballast:', key: 'keyPrefix' };
  if (!isSafeKeyPrefix(keyPrefix.value)) {
    throw new BallastConfigError(keyPrefix.key, keyPrefix.value, `1 to 64 characters matching ${SAFE_KEY_PREFIX}`);
  }

  // A DATABASE_URL meant for something else (the app's ORM) must not fail an app whose Ballast
  // services all run on Valkey/Redis: the Postgres connection is only checked when used.
  const postgres = used.has('postgres') ? resolvePostgres(options.postgres, env) : unusedPostgres();
  const refusal = used.has('postgres') ? embeddedRefusal(postgres, env) : undefined;
  if (refusal && providers.atBoot.has('postgres')) throw refusal;
  if (refusal && postgres.kind === 'embedded') postgres.refusal = refusal;

  const config: BallastCoreConfig = {
    schema: schema.value,
    keyPrefix: keyPrefix.value,
    clock: options.clock ?? systemClock,
    bootTimeoutMs: readEnvInteger(options.bootTimeoutMs, 'bootTimeoutMs', env, 'BALLAST_BOOT_TIMEOUT_MS', { min: 100, fallback: 15_000 }),
    postgres,
    redisProtocol: {},
  };

  for (const name of ['valkey', 'redis'] as const) {
    const connection = resolveRedis(name, options[name], env);
    if (connection) config.redisProtocol[name] = connection;
    else if (used.has(name)) {
      const envVar = name === 'valkey' ? 'VALKEY_URL' : 'REDIS_URL';
      throw new BallastConfigError(name, undefined, `{ url } or { client } (or env ${envVar}), because a service uses the ${name} provider`);
    }
  }
  return config;
}

/**
 * In production, an embedded store that keeps everything in memory must be asked for by name: with
 * no database configured, every job, cache entry and counter would be lost at each restart or deploy.
 */
function embeddedRefusal(postgres: ResolvedPostgresConnection, env: BallastEnv): BallastConfigError | undefined {
  if (postgres.kind !== 'embedded' || postgres.dataDir !== undefined || postgres.explicitInMemory || env.NODE_ENV !== 'production') return undefined;
  return new BallastConfigError(
    'DATABASE_URL',
    undefined,
    'a Postgres server in production (NODE_ENV=production): without one, Ballast would run embedded PGlite in memory and lose every job, ' +
      `cache entry and counter on restart. Set DATABASE_URL (or postgres.connectionString), BALLAST_PGLITE_DIR to a directory, or ` +
      `BALLAST_PGLITE_DIR=${IN_MEMORY_DATA_DIR} to run in memory anyway`,
  );
}

/** A whole-number option that an env var can also set (as digits). */
function readEnvInteger(option: unknown, key: string, env: BallastEnv, envVar: string, bounds: { min: number; fallback: number }): number {
  const chosen = pickOption(option, key, env, envVar);
  if (!chosen) return bounds.fallback;
  const value = chosen.key === envVar && typeof chosen.value === 'string' && /^\d+$/.test(chosen.value.trim()) ? Number(chosen.value) : chosen.value;
  return readInteger(value, chosen.key, bounds);
}

function resolvePostgres(option: PostgresConnectionOptions | undefined, env: BallastEnv): ResolvedPostgresConnection {
  if (option !== undefined) {
    if ('connectionString' in option) {
      const source = 'postgres.connectionString';
      return {
        kind: 'url',
        connectionString: option.connectionString,
        poolSize: readInteger(option.poolSize, 'postgres.poolSize', { min: 1, fallback: 10 }),
        preparedStatements: preparedStatements(option.preparedStatements, env),
        endpoint: { where: postgresWhere(option.connectionString, source), source },
      };
    }
    if ('pool' in option && option.pool !== undefined && typeof (option.pool as { query?: unknown } | null)?.query !== 'function') {
      throw new BallastConfigError('postgres.pool', option.pool, 'a pg.Pool (an object with a query() method)');
    }
    if ('pool' in option && option.pool) {
      return {
        kind: 'pool',
        pool: option.pool,
        preparedStatements: preparedStatements(option.preparedStatements, env),
        endpoint: { where: poolWhere(option.pool), source: 'postgres.pool' },
      };
    }
    if ('pglite' in option && option.pglite) return { kind: 'pglite', pglite: option.pglite, endpoint: { where: 'your PGlite instance', source: 'postgres.pglite' } };
    if ('embedded' in option) {
      const fromOption = option.embedded?.dataDir;
      return embedded(fromOption || env.BALLAST_PGLITE_DIR || undefined, fromOption ? 'postgres.embedded.dataDir' : env.BALLAST_PGLITE_DIR ? 'BALLAST_PGLITE_DIR' : 'postgres.embedded');
    }
    throw new BallastConfigError('postgres', option, '{ connectionString }, { pool }, { pglite } or { embedded }');
  }
  if (env.DATABASE_URL) {
    return {
      kind: 'url',
      connectionString: env.DATABASE_URL,
      poolSize: 10,
      preparedStatements: preparedStatements(undefined, env),
      endpoint: { where: postgresWhere(env.DATABASE_URL, 'DATABASE_URL'), source: 'DATABASE_URL' },
    };
  }
  return embedded(env.BALLAST_PGLITE_DIR || undefined, env.BALLAST_PGLITE_DIR ? 'BALLAST_PGLITE_DIR' : 'DATABASE_URL');
}

/** No service runs on Postgres: nothing is ever opened from this. */
function unusedPostgres(): ResolvedPostgresConnection {
  return { kind: 'embedded', dataDir: undefined, explicitInMemory: false, endpoint: { where: 'no Postgres (no service uses it)', source: 'DATABASE_URL' } };
}

/** PGlite's own name for a store kept in memory only. */
export const IN_MEMORY_DATA_DIR = 'memory://';

function embedded(dataDir: string | undefined, source: string): ResolvedPostgresConnection {
  const inMemory = dataDir === undefined || dataDir.startsWith(IN_MEMORY_DATA_DIR);
  return {
    kind: 'embedded',
    dataDir: inMemory ? undefined : dataDir,
    explicitInMemory: dataDir?.startsWith(IN_MEMORY_DATA_DIR) ?? false,
    endpoint: { where: inMemory ? 'embedded PGlite, in memory' : `embedded PGlite, data in ${dataDir}`, source },
  };
}

/**
 * Checks a Postgres connection string and describes it for messages, without its password. libpq
 * URLs (`postgres://`, `postgresql://`) and node-postgres socket URLs (`socket:/path`) are accepted;
 * anything else would reach the driver as a host name (`not-a-url` gives `getaddrinfo ENOTFOUND`).
 */
function postgresWhere(value: unknown, source: string): string {
  const allowed = 'a postgres:// URL, e.g. postgres://user:password@host:5432/database';
  if (typeof value !== 'string' || value.trim() === '') throw new BallastConfigError(source, value, allowed);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BallastConfigError(source, redactUrl(value), allowed);
  }
  if (url.protocol === 'socket:') return `socket ${url.pathname}`;
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new BallastConfigError(source, redactUrl(value), allowed);
  return `${hostAndPort(url, 5432)}${url.pathname.length > 1 ? url.pathname : ''}`;
}

/** A user's pool, described by what it was made with (host, port and database; never the password). */
function poolWhere(pool: unknown): string {
  const options = (pool as { options?: { host?: unknown; port?: unknown; database?: unknown; connectionString?: unknown } }).options;
  if (typeof options?.connectionString === 'string') {
    try {
      const url = new URL(options.connectionString);
      return `${hostAndPort(url, 5432)}${url.pathname.length > 1 ? url.pathname : ''}`;
    } catch {
      return 'your pg.Pool';
    }
  }
  if (typeof options?.host === 'string') return `${options.host}:${typeof options.port === 'number' ? options.port : 5432}${typeof options.database === 'string' ? `/${options.database}` : ''}`;
  return 'your pg.Pool';
}

function preparedStatements(option: unknown, env: BallastEnv): boolean {
  return readFlag(option, 'postgres.preparedStatements', env, 'BALLAST_PREPARED_STATEMENTS', true);
}

function resolveRedis(
  name: RedisProtocolProviderName,
  option: RedisConnectionOptions | undefined,
  env: BallastEnv,
): ResolvedRedisConnection | undefined {
  if (option !== undefined) {
    if ('client' in option && option.client) return { kind: 'client', client: option.client, endpoint: { where: clientWhere(option.client), source: `${name}.client` } };
    if ('url' in option && typeof option.url === 'string' && option.url !== '') return redisUrl(option.url, `${name}.url`);
    throw new BallastConfigError(name, option, '{ url: "redis://..." } or { client: ioredis instance }');
  }
  const envVar = name === 'valkey' ? 'VALKEY_URL' : 'REDIS_URL';
  const url = env[envVar];
  return url ? redisUrl(url, envVar) : undefined;
}

/** Checks a Redis-protocol URL (`redis://`, `rediss://`, or a Unix socket path) and describes it without its password. */
function redisUrl(value: string, source: string): ResolvedRedisConnection {
  if (value.startsWith('/')) return { kind: 'url', url: value, endpoint: { where: `socket ${value}`, source } };
  const allowed = 'a redis:// or rediss:// URL, e.g. redis://:password@host:6379/0';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BallastConfigError(source, redactUrl(value), allowed);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new BallastConfigError(source, redactUrl(value), allowed);
  return { kind: 'url', url: value, endpoint: { where: `${hostAndPort(url, 6379)}${url.pathname.length > 1 ? url.pathname : ''}`, source } };
}

/** A user's client, described by where it connects (never the password). */
function clientWhere(client: Redis | Cluster): string {
  if (client instanceof Cluster) return 'your Redis Cluster client';
  const { host, port, path } = client.options;
  return path ? `socket ${path}` : `${host ?? 'localhost'}:${port ?? 6379}`;
}
