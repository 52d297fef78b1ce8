import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import { Redis } from 'ioredis';
import { PGlite } from '@electric-sql/pglite';
import { BallastModule, CacheService, type BallastModuleOptions } from '../../lib/index.js';
import { unlinkByPrefix } from '../../lib/core/connections/unlink-by-prefix.js';
import { dropSchema } from '../support/cleanup.js';

/** What the bench drives: the three measured operations, the same for Ballast and the raw drivers. */
export interface CacheContender {
  /** Row name in the report, e.g. `ballast-postgres`, `raw-pg`. */
  readonly provider: string;
  /** For a Ballast contender: the raw contenders on the same server it is compared with. */
  readonly baselines?: readonly string[];
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  getOrSet(key: string, loader: () => unknown, ttlMs: number): Promise<unknown>;
  /** Deletes what the contender wrote (schema, keys) and closes its connections. */
  close(): Promise<void>;
}

export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
export const BENCH_VALKEY_URL = process.env.BENCH_VALKEY_URL ?? BENCH_REDIS_URL;
/** Connections per Postgres pool, Ballast's and the raw one alike. */
export const POOL_SIZE = 10;

/** One tag per run: every schema and key prefix carries it, so runs never see each other's data. */
const RUN_TAG = `${process.pid}_${randomBytes(3).toString('hex')}`;

/** Ballast booted as an app would: an application context importing `BallastModule.forRoot`. */
export async function ballastContender(
  provider: string,
  baselines: readonly string[],
  options: BallastModuleOptions,
  afterClose: () => Promise<void> = async () => undefined,
): Promise<CacheContender> {
  const app: INestApplicationContext = await NestFactory.createApplicationContext(BallastModule.forRoot(options), {
    logger: ['error', 'warn'],
  });
  const cache = app.get(CacheService);
  return {
    provider,
    baselines,
    get: (key) => cache.get(key),
    set: (key, value, ttl) => cache.set(key, value, { ttl }),
    getOrSet: (key, loader, ttl) => cache.getOrSet(key, loader, { ttl }),
    close: async () => {
      try {
        await cache.clear();
      } finally {
        await app.close();
        await afterClose();
      }
    },
  };
}

export function ballastPostgres(): Promise<CacheContender> {
  const schema = `bench_cache_ballast_${RUN_TAG}`;
  return ballastContender(
    'ballast-postgres',
    ['raw-pg', 'raw-pg-prepared'],
    { cache: { provider: 'postgres' }, postgres: { connectionString: BENCH_DATABASE_URL, poolSize: POOL_SIZE }, schema },
    () => dropSchema(BENCH_DATABASE_URL, schema),
  );
}

/** Zero-config path: no connection given, so Ballast opens in-memory PGlite in this process. */
export function ballastPglite(): Promise<CacheContender> {
  return ballastContender('ballast-pglite', ['raw-pglite'], {
    cache: { provider: 'postgres' },
    postgres: { embedded: {} },
    schema: `bench_cache_ballast_${RUN_TAG}`,
  });
}

export function ballastRedisProtocol(provider: 'redis' | 'valkey'): Promise<CacheContender> {
  const url = provider === 'redis' ? BENCH_REDIS_URL : BENCH_VALKEY_URL;
  return ballastContender(`ballast-${provider}`, ['raw-ioredis'], {
    cache: { provider },
    [provider]: { url },
    keyPrefix: `bench:cache:${provider}:${RUN_TAG}:`,
  });
}

/**
 * The table a user would create by hand, with the same shape as Ballast's (UNLOGGED, jsonb value,
 * index on expires_at), so the comparison isolates the library's code path, not the schema.
 */
function rawTableDdl(schema: string): string[] {
  return [
    `CREATE SCHEMA ${schema}`,
    `CREATE UNLOGGED TABLE ${schema}.cache (key text PRIMARY KEY, value jsonb NOT NULL, expires_at timestamptz)`,
    `CREATE INDEX ON ${schema}.cache (expires_at)`,
  ];
}

/** The statements a user would write by hand: expiry from the server's `now()`, jsonb parsed by the driver. */
function rawSql(schema: string) {
  return {
    get: `SELECT value FROM ${schema}.cache WHERE key = $1 AND (expires_at IS NULL OR expires_at > now())`,
    set: `INSERT INTO ${schema}.cache (key, value, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
          ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
  };
}

type Queryable = { query(text: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> };

/** A statement as plain text, or (on a `pg.Pool`) named, so each connection parses and plans it once. */
type RunStatement = (text: string, name: string, params: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }>;

function rawSqlContender(provider: string, run: RunStatement, schema: string, close: () => Promise<void>): CacheContender {
  const sql = rawSql(schema);
  const get = async (key: string) => (await run(sql.get, 'raw_cache_get', [key])).rows[0]?.value;
  const set = async (key: string, value: unknown, ttl: number) => {
    await run(sql.set, 'raw_cache_set', [key, JSON.stringify(value), ttl]);
  };
  return {
    provider,
    get,
    set,
    getOrSet: async (key, loader, ttl) => {
      const hit = await get(key);
      if (hit !== undefined) return hit;
      const value = await loader();
      await set(key, value, ttl);
      return value;
    },
    close,
  };
}

/**
 * Plain `pg.Pool` of the same size as Ballast's, on the same server. `prepared`: named statements,
 * which Ballast's store uses too; without, the unnamed statements most hand-written code sends.
 */
export async function rawPg(prepared = false): Promise<CacheContender> {
  const schema = `bench_cache_raw${prepared ? 'p' : ''}_${RUN_TAG}`;
  const pool = new pg.Pool({ connectionString: BENCH_DATABASE_URL, max: POOL_SIZE });
  for (const statement of rawTableDdl(schema)) await pool.query(statement);
  const run: RunStatement = prepared
    ? (text, name, values) => pool.query({ text, name, values })
    : (text, _name, values) => pool.query(text, values);
  return rawSqlContender(prepared ? 'raw-pg-prepared' : 'raw-pg', run, schema, async () => {
    try {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await pool.end();
    }
  });
}

/** Plain PGlite in this process (its own in-memory instance, like Ballast's embedded one). */
export async function rawPglite(): Promise<CacheContender> {
  const schema = `bench_cache_raw_${RUN_TAG}`;
  const db = await PGlite.create();
  for (const statement of rawTableDdl(schema)) await db.query(statement);
  const queryable = db as unknown as Queryable;
  return rawSqlContender('raw-pglite', (text, _name, params) => queryable.query(text, params), schema, () => db.close());
}

/** Plain ioredis: `SET key json PX ttl` and `GET key`, JSON in and out. */
export async function rawIoredis(): Promise<CacheContender> {
  const prefix = `bench:cache:raw:${RUN_TAG}:`;
  const redis = new Redis(BENCH_REDIS_URL);
  const get = async (key: string) => {
    const json = await redis.get(prefix + key);
    return json === null ? undefined : (JSON.parse(json) as unknown);
  };
  const set = async (key: string, value: unknown, ttl: number) => {
    await redis.set(prefix + key, JSON.stringify(value), 'PX', ttl);
  };
  return {
    provider: 'raw-ioredis',
    get,
    set,
    getOrSet: async (key, loader, ttl) => {
      const hit = await get(key);
      if (hit !== undefined) return hit;
      const value = await loader();
      await set(key, value, ttl);
      return value;
    },
    close: async () => {
      try {
        await unlinkByPrefix(redis, prefix, 500);
      } finally {
        await redis.quit();
      }
    },
  };
}

