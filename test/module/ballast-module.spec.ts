import { cacheMigrations } from '../../lib/drivers/postgres/cache/postgres-cache.migrations.js';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import pg from 'pg';
import { Redis } from 'ioredis';
import { BallastBackendError, BallastModule, CacheService, QueueService, RateLimitService } from '../../lib/index.js';
import { BALLAST_CONFIG, type BallastConfig } from '../../lib/ballast-config.js';
import { BallastConnections } from '../../lib/core/connections/ballast-connections.js';
import { bootBallast } from '../support/boot.js';
import { dropSchemaOnServer } from '../support/backends.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL, TEST_VALKEY_URL } from '../support/test-env.js';
import { uniquePrefix, uniqueSchema } from '../support/unique-name.js';
import { waitFor } from '../support/wait-for.js';

/** Stands in for @nestjs/config's ConfigService: settings that only exist through DI. */
@Injectable()
class SettingsService {
  readonly values: Record<string, string> = { DB: TEST_DATABASE_URL, CACHE: 'postgres' };
  get(key: string): string {
    const value = this.values[key];
    if (value === undefined) throw new Error(`no setting ${key}`);
    return value;
  }
}

@Module({ providers: [SettingsService], exports: [SettingsService] })
class SettingsModule {}

/** A consumer in another module: proves the module is global (no re-import needed). */
@Injectable()
class ProfileService {
  constructor(readonly cache: CacheService) {}
}

@Module({ providers: [ProfileService], exports: [ProfileService] })
class ProfileModule {}

const schemas: string[] = [];
afterAll(async () => {
  for (const schema of schemas) await dropSchemaOnServer(schema);
});

function newSchema(label: string): string {
  const schema = uniqueSchema(label);
  schemas.push(schema);
  return schema;
}

async function tablesIn(schema: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema],
    );
    return rows.map((row) => row.table_name);
  } finally {
    await client.end();
  }
}

describe('BallastModule', () => {
  it('forRoot registers a global CacheService usable from another module', async () => {
    const schema = newSchema('forroot');
    const moduleRef = await Test.createTestingModule({
      imports: [BallastModule.forRoot({ postgres: { connectionString: TEST_DATABASE_URL }, schema }), ProfileModule],
    }).compile();
    await moduleRef.init();
    try {
      const profile = moduleRef.get(ProfileService);
      await profile.cache.set('user:1', { name: 'Ada' });
      expect(await moduleRef.get(CacheService).get('user:1')).toEqual({ name: 'Ada' });
      expect(await tablesIn(schema)).toEqual(['cache_entries', 'migrations']);
    } finally {
      await moduleRef.close();
    }
  });

  it('forRootAsync takes options from an injected config service', async () => {
    const schema = newSchema('async');
    const moduleRef = await Test.createTestingModule({
      imports: [
        BallastModule.forRootAsync({
          imports: [SettingsModule],
          inject: [SettingsService],
          useFactory: (settings: SettingsService) => ({
            postgres: { connectionString: settings.get('DB') },
            cache: { provider: settings.get('CACHE') as 'postgres' },
            schema,
          }),
        }),
        ProfileModule,
      ],
    }).compile();
    await moduleRef.init();
    try {
      const cache = moduleRef.get(ProfileService).cache;
      expect(cache.provider).toBe('postgres');
      await cache.set('k', 1);
      expect(await cache.get('k')).toBe(1);
      expect(await tablesIn(schema)).toContain('cache_entries');
    } finally {
      await moduleRef.close();
    }
  });

  it('takes its whole config from env when given no options', async () => {
    const prefix = uniquePrefix('env');
    const saved = { ...process.env };
    Object.assign(process.env, { CACHE_PROVIDER: 'redis', REDIS_URL: TEST_REDIS_URL, BALLAST_KEY_PREFIX: prefix });
    try {
      const moduleRef = await bootBallast({});
      try {
        const cache = moduleRef.get(CacheService);
        expect(cache.provider).toBe('redis');
        await cache.set('from-env', true);
        const raw = new Redis(TEST_REDIS_URL);
        try {
          expect(await raw.get(`${prefix}cache:from-env`)).toBe('true');
        } finally {
          raw.disconnect();
        }
        await cache.clear();
      } finally {
        await moduleRef.close();
      }
    } finally {
      for (const key of ['CACHE_PROVIDER', 'REDIS_URL', 'BALLAST_KEY_PREFIX']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('runs on embedded PGlite when no database is configured', async () => {
    const moduleRef = await bootBallast({ postgres: { embedded: {} } });
    try {
      const cache = moduleRef.get(CacheService);
      const db = await moduleRef.get(BallastConnections).postgres();
      expect(db.embedded).toBe(true);
      await cache.set('zero-config', 'works');
      expect(await cache.get('zero-config')).toBe('works');
    } finally {
      await moduleRef.close();
    }
  });

  it('opens only the backends its services use', async () => {
    const schema = newSchema('mix');
    const moduleRef = await bootBallast({
      postgres: { connectionString: TEST_DATABASE_URL },
      valkey: { url: TEST_VALKEY_URL },
      redis: { url: TEST_REDIS_URL },
      cache: { provider: 'valkey' },
      schema,
      keyPrefix: uniquePrefix('mix'),
    });
    try {
      const cache = moduleRef.get(CacheService);
      expect(cache.provider).toBe('valkey');
      await cache.set('k', 'v');
      // The Postgres connection is configured but unused: no schema was migrated.
      expect(await tablesIn(schema)).toEqual([]);
      await cache.clear();
    } finally {
      await moduleRef.close();
    }
  });

  it('lets two instances boot on one fresh schema at the same moment', async () => {
    const schema = newSchema('race');
    const options = { postgres: { connectionString: TEST_DATABASE_URL }, schema };
    const [a, b] = await Promise.all([bootBallast(options), bootBallast(options)]);
    try {
      await a.get(CacheService).set('shared', 'from a');
      expect(await b.get(CacheService).get('shared')).toBe('from a');
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        const { rows } = await client.query(`SELECT service, version FROM "${schema}".migrations ORDER BY service, version`);
        expect(rows).toEqual(cacheMigrations.map((m) => ({ service: 'cache', version: m.version })));
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('closes the connections it opened on shutdown', async () => {
    const schema = newSchema('close_owned');
    const moduleRef = await bootBallast({
      postgres: { connectionString: TEST_DATABASE_URL },
      redis: { url: TEST_REDIS_URL },
      schema,
    });
    const connections = moduleRef.get(BallastConnections);
    const db = await connections.postgres();
    const redis = connections.redis('redis');
    await redis.ping();
    await moduleRef.close();
    await expect(db.query('SELECT 1')).rejects.toThrow();
    // QUIT resolves when the server answers; the socket closes right after.
    await waitFor('the owned Redis client to end', () => redis.status === 'end', 2000);
  });

  it('refuses queue and rate-limit calls after shutdown instead of opening new connections', async () => {
    const schema = newSchema('closed_calls');
    const moduleRef = await bootBallast({ postgres: { connectionString: TEST_DATABASE_URL }, schema, queue: { workers: false } });
    const queue = moduleRef.get(QueueService);
    const limiter = moduleRef.get(RateLimitService);
    await queue.add('mail', 'welcome', { n: 1 });
    await moduleRef.close();
    await expect(queue.add('mail', 'welcome', { n: 2 })).rejects.toThrow(BallastBackendError);
    // A rate-limit store failure is decided by onStoreError ('allow'), and reported on the result.
    const late = await limiter.consume('k', { name: 'late', limit: 1, window: 60_000 });
    expect(late.storeError).toBeInstanceOf(BallastBackendError);
    // Nothing was opened again: the limiter's tables were never created.
    expect((await tablesIn(schema)).filter((name) => name.startsWith('rate_limits'))).toEqual([]);
  });

  it('sends only plain statements when preparedStatements is off (for poolers that cannot carry them)', async () => {
    const schema = newSchema('unprepared');
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
    const sent: unknown[] = [];
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
      sent.push(args[0]);
      return query(...args);
    };
    try {
      const moduleRef = await bootBallast({ postgres: { pool, preparedStatements: false }, schema, rateLimit: { policies: { api: { limit: 5, window: 60_000 } } } });
      const cache = moduleRef.get(CacheService);
      await cache.set('k', { v: 1 });
      expect(await cache.get('k')).toEqual({ v: 1 });
      const { id } = await moduleRef.get(QueueService).add('q', 'n', { v: 2 });
      expect((await moduleRef.get(QueueService).getJob('q', id))?.data).toEqual({ v: 2 });
      expect((await moduleRef.get(RateLimitService).consume('client', 'api')).remaining).toBe(4);
      await moduleRef.close();
      expect(sent.length).toBeGreaterThan(3);
      // A named statement goes as a config object with a name; none did.
      expect(sent.filter((arg) => typeof arg !== 'string')).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it('leaves connections the user passed in open on shutdown', async () => {
    const schema = newSchema('close_user');
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const moduleRef = await bootBallast({ postgres: { pool }, redis: { client: redis }, schema });
      const config = moduleRef.get<BallastConfig>(BALLAST_CONFIG);
      expect(config.core.postgres.kind).toBe('pool');
      await moduleRef.get(CacheService).set('k', 1);
      moduleRef.get(BallastConnections).redis('redis');
      await moduleRef.close();
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(await redis.ping()).toBe('PONG');
    } finally {
      await pool.end();
      redis.disconnect();
    }
  });
});
