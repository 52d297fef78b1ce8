import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import {
  BallastModule,
  minutes,
  RATE_LIMIT_ALGORITHMS,
  RateLimitService,
  type BallastModuleOptions,
  type RateLimitAlgorithm,
} from '../../lib/index.js';
import { report } from '../support/report.js';
import { runLoad } from '../support/run-load.js';

/**
 * `npm run bench:rate-limit`: 20,000 decisions over 1,000 keys with 50 in flight, per provider and
 * algorithm, through `RateLimitService` as an app calls it. Each key sees 20 calls against a limit
 * of 15 per minute, so about a quarter are rejections (which cost a store call too). A short warm-up
 * per row fills connection pools and script caches. Writes bench/results/rate-limit.json.
 */
const DECISIONS = 20_000;
const KEYS = 1_000;
const IN_FLIGHT = 50;
const WARMUP = 2_000;
const LIMIT = 15;

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const VALKEY_URL = process.env.BENCH_VALKEY_URL ?? REDIS_URL;
/** Connections in the Postgres pool: enough to keep 50 calls moving, few enough for a 2-core server. */
const POOL_SIZE = Number(process.env.BENCH_POOL_SIZE ?? 16);

const RUN_TAG = `${process.pid}_${randomBytes(3).toString('hex')}`;

interface Setup {
  provider: string;
  options: BallastModuleOptions;
  cleanup(): Promise<void>;
}

const setups: Array<() => Setup> = [
  () => {
    const schema = `bench_rl_${RUN_TAG}`;
    return {
      provider: 'postgres',
      options: { postgres: { connectionString: DATABASE_URL, poolSize: POOL_SIZE }, schema, cache: { provider: 'postgres' } },
      cleanup: () => dropSchema(schema),
    };
  },
  () => ({ provider: 'pglite', options: { postgres: { embedded: {} }, schema: `bench_rl_${RUN_TAG}` }, cleanup: async () => undefined }),
  () => ({ provider: 'redis', options: { redis: { url: REDIS_URL }, cache: { provider: 'redis' } }, cleanup: async () => undefined }),
  () => ({ provider: 'valkey', options: { valkey: { url: VALKEY_URL }, cache: { provider: 'valkey' } }, cleanup: async () => undefined }),
];

async function main(): Promise<void> {
  const only = process.env.BENCH_PROVIDERS?.split(',');
  const rows: Array<{ provider: string; algorithm: RateLimitAlgorithm; decisionsPerSec: number; p50Ms: number; p99Ms: number }> = [];
  for (const make of setups) {
    const setup = make();
    if (only && !only.includes(setup.provider)) continue;
    const storeProvider = setup.provider === 'pglite' ? 'postgres' : (setup.provider as 'postgres' | 'redis' | 'valkey');
    const app = await NestFactory.createApplicationContext(
      BallastModule.forRoot({
        ...setup.options,
        keyPrefix: `bench:rl:${RUN_TAG}:`,
        rateLimit: { provider: storeProvider, timeoutMs: 30_000 },
      }),
      { logger: ['error', 'warn'] },
    );
    try {
      const limiter = app.get(RateLimitService);
      for (const algorithm of RATE_LIMIT_ALGORITHMS) {
        const policy = { name: `bench-${algorithm}`, limit: LIMIT, window: minutes(1), algorithm };
        const warm = { ...policy, name: `warm-${algorithm}` };
        await runLoad(WARMUP, IN_FLIGHT, (i) => limiter.consume(`k${i % KEYS}`, warm));
        const result = await runLoad(DECISIONS, IN_FLIGHT, (i) => limiter.consume(`k${i % KEYS}`, policy));
        rows.push({ provider: setup.provider, algorithm, decisionsPerSec: Math.round(result.opsPerSec), p50Ms: result.p50Ms, p99Ms: result.p99Ms });
        console.log(`${setup.provider} ${algorithm}: ${Math.round(result.opsPerSec)}/s`);
      }
    } finally {
      await app.close();
      await setup.cleanup();
    }
  }
  report('rate-limit', rows, { decisions: DECISIONS, keys: KEYS, inFlight: IN_FLIGHT, limitPerMinute: LIMIT, postgresPoolSize: POOL_SIZE });
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
