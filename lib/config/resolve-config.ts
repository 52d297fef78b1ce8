import type { BallastModuleOptions, PostgresConnectionOptions, RedisConnectionOptions } from '../ballast-options.interface.js';
import type { BallastConfig, ResolvedPostgresConnection, ResolvedRedisConnection } from './ballast-config.js';
import type { ProviderName, RedisProtocolProviderName } from '../common/provider-name.js';
import { systemClock } from '../common/clock.js';
import { BallastConfigError } from '../errors/ballast-config.error.js';
import { isSafeIdentifier, isSafeKeyPrefix, SAFE_IDENTIFIER, SAFE_KEY_PREFIX } from './identifiers.js';
import { readInteger } from './read-integer.js';
import type { BallastEnv } from './ballast-env.js';
import { pickOption } from './pick-option.js';
import { readFlag } from './read-flag.js';
import { resolveCacheConfig } from '../cache/resolve-cache-config.js';
import { resolveQueueConfig } from '../queue/resolve-queue-config.js';
import { resolveRateLimitConfig } from '../rate-limit/resolve-rate-limit-config.js';

export type { BallastEnv };


/**
 * Turns module options plus env into a validated `BallastConfig`, or throws `BallastConfigError`
 * naming the first bad key. Pure: the module passes `process.env`, tests pass a literal.
 */
export function resolveBallastConfig(options: BallastModuleOptions = {}, env: BallastEnv = {}): BallastConfig {
  const schema = pickOption(options.schema, 'schema', env, 'BALLAST_SCHEMA') ?? { value: 'ballast', key: 'schema' };
  if (!isSafeIdentifier(schema.value)) {
    throw new BallastConfigError(schema.key, schema.value, `a lower-case SQL identifier matching ${SAFE_IDENTIFIER}`);
  }
  const keyPrefix = pickOption(options.keyPrefix, 'keyPrefix', env, 'BALLAST_KEY_PREFIX') ?? { value: 'ballast:', key: 'keyPrefix' };
  if (!isSafeKeyPrefix(keyPrefix.value)) {
    throw new BallastConfigError(keyPrefix.key, keyPrefix.value, `1 to 64 characters matching ${SAFE_KEY_PREFIX}`);
  }

  const cache = resolveCacheConfig(options.cache, env);
  const queue = resolveQueueConfig(options.queue, env);
  const rateLimit = resolveRateLimitConfig(options.rateLimit, env);

  const config: BallastConfig = {
    schema: schema.value,
    keyPrefix: keyPrefix.value,
    clock: options.clock ?? systemClock,
    postgres: resolvePostgres(options.postgres, env),
    redisProtocol: {},
    cache,
    queue,
    rateLimit,
  };
  const used = new Set(providersInUse(config));

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
export function providersInUse(config: Pick<BallastConfig, 'cache' | 'queue' | 'rateLimit'>): ProviderName[] {
  return [...new Set<ProviderName>([config.cache.provider, config.queue.provider, config.rateLimit.provider])];
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
        preparedStatements: preparedStatements(option.preparedStatements, env),
      };
    }
    if ('pool' in option && option.pool) return { kind: 'pool', pool: option.pool, preparedStatements: preparedStatements(option.preparedStatements, env) };
    if ('pglite' in option && option.pglite) return { kind: 'pglite', pglite: option.pglite };
    if ('embedded' in option) return { kind: 'embedded', dataDir: option.embedded?.dataDir || env.BALLAST_PGLITE_DIR || undefined };
    throw new BallastConfigError('postgres', option, '{ connectionString }, { pool }, { pglite } or { embedded }');
  }
  if (env.DATABASE_URL) return { kind: 'url', connectionString: env.DATABASE_URL, poolSize: 10, preparedStatements: preparedStatements(undefined, env) };
  return { kind: 'embedded', dataDir: env.BALLAST_PGLITE_DIR || undefined };
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
    if ('client' in option && option.client) return { kind: 'client', client: option.client };
    if ('url' in option && typeof option.url === 'string' && option.url !== '') return { kind: 'url', url: option.url };
    throw new BallastConfigError(name, option, '{ url: "redis://..." } or { client: ioredis instance }');
  }
  const url = name === 'valkey' ? env.VALKEY_URL : env.REDIS_URL;
  return url ? { kind: 'url', url } : undefined;
}
