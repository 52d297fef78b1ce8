import type { BallastModuleOptions, PostgresConnectionOptions, RedisConnectionOptions } from '../ballast-options.interface.js';
import type { BallastConfig, ResolvedPostgresConnection, ResolvedRedisConnection } from './ballast-config.js';
import { PROVIDER_NAMES, type ProviderName, type RedisProtocolProviderName } from '../common/provider-name.js';
import { systemClock } from '../common/clock.js';
import { BallastConfigError } from '../errors/ballast-config.error.js';
import { isSafeIdentifier, isSafeKeyPrefix, SAFE_IDENTIFIER, SAFE_KEY_PREFIX } from './identifiers.js';
import { readInteger } from './read-integer.js';

/** The environment variables Ballast reads; options given in code take precedence over each. */
export type BallastEnv = Readonly<Record<string, string | undefined>>;

/**
 * Turns module options plus env into a validated `BallastConfig`, or throws `BallastConfigError`
 * naming the first bad key. Pure: the module passes `process.env`, tests pass a literal.
 */
export function resolveBallastConfig(options: BallastModuleOptions = {}, env: BallastEnv = {}): BallastConfig {
  const schema = pick(options.schema, 'schema', env, 'BALLAST_SCHEMA') ?? { value: 'ballast', key: 'schema' };
  if (!isSafeIdentifier(schema.value)) {
    throw new BallastConfigError(schema.key, schema.value, `a lower-case SQL identifier matching ${SAFE_IDENTIFIER}`);
  }
  const keyPrefix = pick(options.keyPrefix, 'keyPrefix', env, 'BALLAST_KEY_PREFIX') ?? { value: 'ballast:', key: 'keyPrefix' };
  if (!isSafeKeyPrefix(keyPrefix.value)) {
    throw new BallastConfigError(keyPrefix.key, keyPrefix.value, `1 to 64 characters matching ${SAFE_KEY_PREFIX}`);
  }

  const cacheOptions = options.cache ?? {};
  const cacheProvider = resolveProvider(cacheOptions.provider, 'cache.provider', env, 'CACHE_PROVIDER');
  const used = new Set<ProviderName>([cacheProvider]);

  const config: BallastConfig = {
    schema: schema.value,
    keyPrefix: keyPrefix.value,
    clock: options.clock ?? systemClock,
    postgres: resolvePostgres(options.postgres, env),
    redisProtocol: {},
    cache: {
      provider: cacheProvider,
      defaultTtl: optionalTtl(cacheOptions.defaultTtl, 'cache.defaultTtl'),
      timeoutMs: readInteger(cacheOptions.timeoutMs, 'cache.timeoutMs', { min: 1, fallback: 5000 }),
      sweepIntervalMs: readInteger(cacheOptions.sweepIntervalMs, 'cache.sweepIntervalMs', { min: 1, fallback: 60_000 }),
      sweepBatchSize: readInteger(cacheOptions.sweepBatchSize, 'cache.sweepBatchSize', { min: 1, fallback: 1000 }),
      maxEntries:
        cacheOptions.maxEntries === undefined
          ? undefined
          : readInteger(cacheOptions.maxEntries, 'cache.maxEntries', { min: 1, fallback: 0 }),
    },
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

/** Lists the providers the services picked, each once; the connection registry opens only these. */
export function providersInUse(config: BallastConfig): ProviderName[] {
  return [...new Set<ProviderName>([config.cache.provider])];
}

function resolveProvider(option: unknown, key: string, env: BallastEnv, envVar: string): ProviderName {
  const chosen = pick(option, key, env, envVar);
  if (!chosen) return 'postgres';
  const value = typeof chosen.value === 'string' ? chosen.value.trim().toLowerCase() : chosen.value;
  if (!(PROVIDER_NAMES as readonly unknown[]).includes(value)) {
    throw new BallastConfigError(chosen.key, chosen.value, PROVIDER_NAMES.map((p) => `'${p}'`).join(', '));
  }
  return value as ProviderName;
}

function resolvePostgres(option: PostgresConnectionOptions | undefined, env: BallastEnv): ResolvedPostgresConnection {
  if (option !== undefined) {
    if ('connectionString' in option) {
      if (typeof option.connectionString !== 'string' || option.connectionString === '') {
        throw new BallastConfigError('postgres.connectionString', option.connectionString, 'a non-empty postgres:// URL');
      }
      return {
        kind: 'url',
        connectionString: option.connectionString,
        poolSize: readInteger(option.poolSize, 'postgres.poolSize', { min: 1, fallback: 10 }),
      };
    }
    if ('pool' in option && option.pool) return { kind: 'pool', pool: option.pool };
    if ('pglite' in option && option.pglite) return { kind: 'pglite', pglite: option.pglite };
    if ('embedded' in option) return { kind: 'embedded', dataDir: option.embedded?.dataDir || env.BALLAST_PGLITE_DIR || undefined };
    throw new BallastConfigError('postgres', option, '{ connectionString }, { pool }, { pglite } or { embedded }');
  }
  if (env.DATABASE_URL) return { kind: 'url', connectionString: env.DATABASE_URL, poolSize: 10 };
  return { kind: 'embedded', dataDir: env.BALLAST_PGLITE_DIR || undefined };
}

function resolveRedis(
  name: RedisProtocolProviderName,
  option: RedisConnectionOptions | undefined,
  env: BallastEnv,
): ResolvedRedisConnection | undefined {
  if (option !== undefined) {
    if ('client' in option && option.client) return { kind: 'client', client: option.client };
    if ('url' in option && typeof option.url === 'string' && option.url !== '') return { kind: 'url', url: option.url };
    throw new BallastConfigError(name, option, '{ url: "redis://..." } or { client: ioredis instance }');
  }
  const url = name === 'valkey' ? env.VALKEY_URL : env.REDIS_URL;
  return url ? { kind: 'url', url } : undefined;
}

function optionalTtl(value: unknown, key: string): number | undefined {
  if (value === undefined) return undefined;
  const ttl = readInteger(value, key, { min: 0, fallback: 0 });
  return ttl === 0 ? undefined : ttl;
}

/** An option given in code wins over its env var; reports which of the two the value came from. */
function pick(option: unknown, key: string, env: BallastEnv, envVar: string): { value: unknown; key: string } | undefined {
  if (option !== undefined) return { value: option, key };
  const fromEnv = env[envVar];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, key: envVar };
  return undefined;
}
