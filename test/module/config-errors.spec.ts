import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { BallastConfigError, BallastModule, type BallastModuleOptions } from '../../lib/index.js';
import { resolveBallastConfig } from '../../lib/ballast-config.js';

/** Bad config fails the boot with a BallastConfigError naming the key, the bad value and what is allowed. */
describe('config errors', () => {
  const cases: Array<{ title: string; options: BallastModuleOptions; env?: Record<string, string>; key: string; value: unknown; allowed: RegExp }> = [
    {
      title: 'unknown provider in options',
      options: { cache: { provider: 'memcached' as never } },
      key: 'cache.provider',
      value: 'memcached',
      allowed: /'postgres', 'valkey', 'redis'/,
    },
    {
      title: 'unknown provider in env',
      options: {},
      env: { CACHE_PROVIDER: 'mongo' },
      key: 'CACHE_PROVIDER',
      value: 'mongo',
      allowed: /'postgres', 'valkey', 'redis'/,
    },
    {
      title: 'redis chosen without a redis connection',
      options: { cache: { provider: 'redis' } },
      key: 'redis',
      value: undefined,
      allowed: /REDIS_URL/,
    },
    {
      title: 'valkey chosen by env without VALKEY_URL',
      options: {},
      env: { CACHE_PROVIDER: 'valkey', REDIS_URL: 'redis://127.0.0.1:6379' },
      key: 'valkey',
      value: undefined,
      allowed: /VALKEY_URL/,
    },
    {
      title: 'unsafe schema',
      options: { schema: 'ballast; drop table users' },
      key: 'schema',
      value: 'ballast; drop table users',
      allowed: /SQL identifier/,
    },
    {
      title: 'upper-case schema from env',
      options: {},
      env: { BALLAST_SCHEMA: 'Ballast' },
      key: 'BALLAST_SCHEMA',
      value: 'Ballast',
      allowed: /lower-case/,
    },
    {
      title: 'key prefix with glob characters',
      options: { keyPrefix: 'app*' },
      key: 'keyPrefix',
      value: 'app*',
      allowed: /1 to 64 characters/,
    },
    {
      title: 'negative TTL',
      options: { cache: { defaultTtl: -5 } },
      key: 'cache.defaultTtl',
      value: -5,
      allowed: /integer >= 0/,
    },
    {
      title: 'fractional TTL',
      options: { cache: { defaultTtl: 1.5 } },
      key: 'cache.defaultTtl',
      value: 1.5,
      allowed: /integer >= 0/,
    },
    {
      title: 'zero timeout',
      options: { cache: { timeoutMs: 0 } },
      key: 'cache.timeoutMs',
      value: 0,
      allowed: /integer >= 1/,
    },
    {
      title: 'empty connection string',
      options: { postgres: { connectionString: '' } },
      key: 'postgres.connectionString',
      value: '',
      allowed: /postgres:\/\//,
    },
    {
      title: 'pool that is not a pool',
      options: { postgres: { pool: 'not a pool' as never } },
      key: 'postgres.pool',
      value: 'not a pool',
      allowed: /query\(\)/,
    },
  ];

  it.each(cases)('$title', ({ options, env, key, value, allowed }) => {
    const error = catchError(() => resolveBallastConfig(options, env ?? {}));
    expect(error).toBeInstanceOf(BallastConfigError);
    const configError = error as BallastConfigError;
    expect(configError.key).toBe(key);
    expect(configError.value).toBe(value);
    expect(configError.allowed).toMatch(allowed);
    expect(configError.message).toContain(key);
    expect(configError.message).toMatch(allowed);
  });

  it('fails the Nest boot itself, before any service is used', async () => {
    const boot = Test.createTestingModule({ imports: [BallastModule.forRoot({ cache: { provider: 'mysql' as never } })] }).compile();
    await expect(boot).rejects.toBeInstanceOf(BallastConfigError);
    await expect(boot).rejects.toThrow(/cache\.provider is "mysql"; allowed: 'postgres', 'valkey', 'redis'/);
  });

  it('lets an option in code win over its env var', () => {
    const config = resolveBallastConfig({ cache: { provider: 'postgres' }, schema: 'from_code' }, { CACHE_PROVIDER: 'nonsense', BALLAST_SCHEMA: 'from_env' });
    expect(config.cache.provider).toBe('postgres');
    expect(config.core.schema).toBe('from_code');
  });

  it('defaults to embedded Postgres with no options and no env', () => {
    const config = resolveBallastConfig({}, {});
    expect(config.cache.provider).toBe('postgres');
    expect(config.core.postgres).toMatchObject({ kind: 'embedded', dataDir: undefined, endpoint: { where: 'embedded PGlite, in memory' } });
    expect(config.core.schema).toBe('ballast');
    expect(config.core.keyPrefix).toBe('ballast:');
  });

  it('turns prepared statements off by option or BALLAST_PREPARED_STATEMENTS, and refuses other values', () => {
    const url = 'postgres://x@h/db';
    expect(resolveBallastConfig({ postgres: { connectionString: url, preparedStatements: false } }, {}).core.postgres).toMatchObject({ preparedStatements: false });
    expect(resolveBallastConfig({}, { DATABASE_URL: url, BALLAST_PREPARED_STATEMENTS: 'off' }).core.postgres).toMatchObject({ preparedStatements: false });
    expect(resolveBallastConfig({ postgres: { connectionString: url, preparedStatements: true } }, { BALLAST_PREPARED_STATEMENTS: 'no' }).core.postgres).toMatchObject({
      preparedStatements: true,
    });
    const fromEnv = catchError(() => resolveBallastConfig({}, { DATABASE_URL: url, BALLAST_PREPARED_STATEMENTS: 'sometimes' }));
    expect(fromEnv).toBeInstanceOf(BallastConfigError);
    expect(fromEnv).toMatchObject({ key: 'BALLAST_PREPARED_STATEMENTS', value: 'sometimes' });
    const fromCode = catchError(() => resolveBallastConfig({ postgres: { connectionString: url, preparedStatements: 'no' as never } }, {}));
    expect(fromCode).toMatchObject({ key: 'postgres.preparedStatements', value: 'no' });
  });

  it('reads DATABASE_URL, BALLAST_PGLITE_DIR and provider names from env', () => {
    expect(resolveBallastConfig({}, { DATABASE_URL: 'postgres://x@h/db' }).core.postgres).toEqual({
      kind: 'url',
      connectionString: 'postgres://x@h/db',
      poolSize: 10,
      preparedStatements: true,
      endpoint: { where: 'h:5432/db', source: 'DATABASE_URL' },
    });
    expect(resolveBallastConfig({}, { BALLAST_PGLITE_DIR: '/tmp/pgdata' }).core.postgres).toMatchObject({ kind: 'embedded', dataDir: '/tmp/pgdata' });
    const valkey = resolveBallastConfig({}, { CACHE_PROVIDER: ' Valkey ', VALKEY_URL: 'redis://127.0.0.1:6379' });
    expect(valkey.cache.provider).toBe('valkey');
    expect(valkey.core.redisProtocol.valkey).toEqual({ kind: 'url', url: 'redis://127.0.0.1:6379', endpoint: { where: '127.0.0.1:6379', source: 'VALKEY_URL' } });
  });

  it.each([
    [{ DATABASE_URL: 'not-a-url' }, 'DATABASE_URL', 'not-a-url'],
    [{ DATABASE_URL: 'mysql://root:hunter2@db/app' }, 'DATABASE_URL', 'mysql://root:***@db/app'],
    [{ DATABASE_URL: 'postgres//app:hunter2@db/app' }, 'DATABASE_URL', 'postgres//app:***@db/app'],
    [{ CACHE_PROVIDER: 'redis', REDIS_URL: 'localhost:6379' }, 'REDIS_URL', 'localhost:6379'],
    [{ CACHE_PROVIDER: 'redis', REDIS_URL: 'http://:hunter2@cache:6379' }, 'REDIS_URL', 'http://:***@cache:6379/'],
  ])('refuses a malformed connection string (%j) naming the variable, never the password', (env, key, shown) => {
    const error = catchError(() => resolveBallastConfig({}, env)) as BallastConfigError;
    expect(error).toBeInstanceOf(BallastConfigError);
    expect(error.key).toBe(key);
    expect(error.value).toBe(shown);
    expect(error.message).toContain(key);
    expect(error.message).not.toContain('hunter2');
  });

  it('does not check DATABASE_URL when no service runs on Postgres (it may be the app\'s own)', () => {
    const config = resolveBallastConfig(
      { cache: { provider: 'redis' }, queue: { provider: 'redis' }, rateLimit: { provider: 'redis' } },
      { DATABASE_URL: 'mysql://app@db/app', REDIS_URL: 'redis://127.0.0.1:6379' },
    );
    expect(config.core.redisProtocol.redis?.endpoint.where).toBe('127.0.0.1:6379');
  });

  it('refuses in production an in-memory embedded store that was not asked for, and says how to ask', () => {
    const error = catchError(() => resolveBallastConfig({ queue: {} }, { NODE_ENV: 'production' })) as BallastConfigError;
    expect(error).toBeInstanceOf(BallastConfigError);
    expect(error.key).toBe('DATABASE_URL');
    expect(error.message).toMatch(/NODE_ENV=production/);
    expect(error.message).toMatch(/BALLAST_PGLITE_DIR=memory:\/\//);
    // Asked for by name, or persisted to a directory, or not used at all: allowed.
    expect(resolveBallastConfig({}, { NODE_ENV: 'production', BALLAST_PGLITE_DIR: 'memory://' }).core.postgres).toMatchObject({ kind: 'embedded', dataDir: undefined });
    expect(resolveBallastConfig({ postgres: { embedded: { dataDir: 'memory://' } } }, { NODE_ENV: 'production' }).core.postgres.kind).toBe('embedded');
    expect(resolveBallastConfig({}, { NODE_ENV: 'production', BALLAST_PGLITE_DIR: '/var/lib/app' }).core.postgres).toMatchObject({ dataDir: '/var/lib/app' });
    expect(catchError(() => resolveBallastConfig({ postgres: { embedded: {} }, cache: {} }, { NODE_ENV: 'production' }))).toBeInstanceOf(BallastConfigError);
    // Declared in code (a @Job handler) opens at boot too, so it is refused at boot.
    expect(catchError(() => resolveBallastConfig({}, { NODE_ENV: 'production' }, { jobs: true, rateLimits: false }))).toBeInstanceOf(BallastConfigError);
    // A service neither configured nor declared opens on first use: the same error then, not at boot.
    expect(resolveBallastConfig({}, { NODE_ENV: 'production' }).core.postgres).toMatchObject({ kind: 'embedded', refusal: error });
    expect(() =>
      resolveBallastConfig({ cache: { provider: 'redis' }, queue: { provider: 'redis' }, rateLimit: { provider: 'redis' } }, { NODE_ENV: 'production', REDIS_URL: 'redis://r:6379' }),
    ).not.toThrow();
  });

  it.each(['pg_catalog', 'pg_ballast', 'information_schema'])('refuses the schema %s, which Postgres reserves', (schema) => {
    const error = catchError(() => resolveBallastConfig({ schema }, {})) as BallastConfigError;
    expect(error).toBeInstanceOf(BallastConfigError);
    expect(error.key).toBe('schema');
    expect(error.allowed).toMatch(/pg_/);
  });

  it('reads bootTimeoutMs from options or BALLAST_BOOT_TIMEOUT_MS', () => {
    expect(resolveBallastConfig({}, {}).core.bootTimeoutMs).toBe(15_000);
    expect(resolveBallastConfig({ bootTimeoutMs: 2000 }, { BALLAST_BOOT_TIMEOUT_MS: '9000' }).core.bootTimeoutMs).toBe(2000);
    expect(resolveBallastConfig({}, { BALLAST_BOOT_TIMEOUT_MS: '9000' }).core.bootTimeoutMs).toBe(9000);
    expect(catchError(() => resolveBallastConfig({}, { BALLAST_BOOT_TIMEOUT_MS: 'soon' }))).toMatchObject({ key: 'BALLAST_BOOT_TIMEOUT_MS' });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
