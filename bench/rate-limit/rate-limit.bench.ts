import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  BallastModule,
  minutes,
  RATE_LIMIT_ALGORITHMS,
  RateLimitService,
  type BallastModuleOptions,
  type RateLimitAlgorithm,
} from '../../lib/index.js';
import { unlinkByPrefix } from '../../lib/core/connections/unlink-by-prefix.js';
import { dropSchema } from '../support/cleanup.js';
import { report } from '../support/report.js';
import { runLoad } from '../support/run-load.js';

/**
 * `npm run bench:rate-limit`: 20,000 decisions (BENCH_DECISIONS) over 1,000 keys (one per 20
 * decisions) with 50 in flight, per provider and algorithm, through `RateLimitService` as an app
 * calls it. Each key sees 20 calls against a limit of 15 per minute, so about a quarter are
 * rejections (the first costs a store call; later ones may be answered by the block cache). A
 * short warm-up per row fills connection pools and script caches. Writes
 * bench/results/rate-limit.json.
 *
 * Baselines in the same run, on the same servers and keys, 50 in flight: `raw-pg` is the cheapest
 * atomic counter a driver can run, a prepared `INSERT ... ON CONFLICT DO UPDATE SET n = n + 1
 * RETURNING n` on an UNLOGGED table through a `pg.Pool` of the same size (no window, no verdict);
 * `raw-ioredis` is one `INCR` per decision on a plain ioredis client. They bound what one round trip
 * per decision can reach on this machine. The store's baseline runs just before and just after each
 * provider, and the provider's rows give `ofBaseline`, their rate over the mean of those two: on a
 * shared 2-core machine the load drifts within one run, and a baseline measured minutes away skews
 * the ratio. A baseline's own row is the mean of all its runs. Env: BENCH_PROVIDERS (comma-separated),
 * BENCH_DECISIONS (per row, default 20000), BENCH_POOL_SIZE, BENCH_DATABASE_URL, BENCH_REDIS_URL,
 * BENCH_VALKEY_URL.
 */
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 20_000);
/** Twenty calls per key whatever BENCH_DECISIONS is, so the share of rejections stays a quarter. */
const KEYS = Math.max(1, Math.round(DECISIONS / 20));
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
      cleanup: () => dropSchema(DATABASE_URL, schema),
    };
  },
  () => ({ provider: 'pglite', options: { postgres: { embedded: {} }, schema: `bench_rl_${RUN_TAG}` }, cleanup: async () => undefined }),
  () => ({ provider: 'redis', options: { redis: { url: REDIS_URL }, cache: { provider: 'redis' } }, cleanup: async () => undefined }),
  () => ({ provider: 'valkey', options: { valkey: { url: VALKEY_URL }, cache: { provider: 'valkey' } }, cleanup: async () => undefined }),
];

interface Row {
  provider: string;
  algorithm: RateLimitAlgorithm | 'counter';
  decisionsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Providers: decisions/s over the mean of the store's baseline run just before and just after. */
  ofBaseline?: number;
  /** Baselines: every measurement the mean is taken from (one before and one after each provider). */
  runsPerSec?: number[];
}

async function main(): Promise<void> {
  const only = process.env.BENCH_PROVIDERS?.split(',');
  const rows: Row[] = [];
  /** Every measurement of each baseline, for its row in the table. */
  const baselineRuns = new Map<Row['provider'], Row[]>();
  const measureBaseline = async (name: 'raw-pg' | 'raw-ioredis'): Promise<number | undefined> => {
    if (only && !only.includes(name)) return undefined;
    const row = await (name === 'raw-pg' ? rawPg() : rawIoredis());
    baselineRuns.set(name, [...(baselineRuns.get(name) ?? []), row]);
    return row.decisionsPerSec;
  };
  for (const make of setups) {
    const setup = make();
    if (only && !only.includes(setup.provider)) continue;
    const storeProvider = setup.provider === 'pglite' ? 'postgres' : (setup.provider as 'postgres' | 'redis' | 'valkey');
    const baselineName = storeProvider === 'postgres' ? 'raw-pg' : 'raw-ioredis';
    const before = await measureBaseline(baselineName);
    const measured: Row[] = [];
    const app = await NestFactory.createApplicationContext(
      BallastModule.forRoot({
        ...setup.options,
        // A prefix per provider: redis and valkey share one server here, and a row that met keys
        // already spent by the row before would measure the block cache, not the store.
        keyPrefix: `bench:rl:${RUN_TAG}:${setup.provider}:`,
        rateLimit: { provider: storeProvider, timeoutMs: 30_000 },
      }),
      { logger: ['error', 'warn'] },
    );
    try {
      const limiter = app.get(RateLimitService);
      // Every algorithm warms up before any is measured, so the first one measured does not also
      // pay for the process's warm-up (JIT, pool connections, prepared statements).
      for (const algorithm of RATE_LIMIT_ALGORITHMS) {
        const warm = { name: `warm-${algorithm}`, limit: LIMIT, window: minutes(1), algorithm };
        await runLoad(WARMUP, IN_FLIGHT, (i) => limiter.consume(`k${i % KEYS}`, warm));
      }
      for (const algorithm of RATE_LIMIT_ALGORITHMS) {
        const policy = { name: `bench-${algorithm}`, limit: LIMIT, window: minutes(1), algorithm };
        const result = await runLoad(DECISIONS, IN_FLIGHT, (i) => limiter.consume(`k${i % KEYS}`, policy));
        measured.push({ provider: setup.provider, algorithm, decisionsPerSec: Math.round(result.opsPerSec), p50Ms: result.p50Ms, p99Ms: result.p99Ms });
        console.log(`${setup.provider} ${algorithm}: ${Math.round(result.opsPerSec)}/s`);
      }
    } finally {
      await app.close();
      await setup.cleanup();
    }
    const after = await measureBaseline(baselineName);
    // The baseline just before and just after this provider's rows: the load on a shared machine
    // drifts within one run, and a ratio to a baseline measured minutes away measures the drift.
    const baseline = before !== undefined && after !== undefined ? (before + after) / 2 : undefined;
    for (const row of measured) rows.push(baseline === undefined ? row : { ...row, ofBaseline: Number((row.decisionsPerSec / baseline).toFixed(3)) });
  }
  for (const runs of baselineRuns.values()) rows.push(meanOf(runs));

  const targets = verdicts(rows);
  report('rate-limit', rows as unknown as Array<Record<string, string | number>>, {
    decisions: DECISIONS,
    keys: KEYS,
    inFlight: IN_FLIGHT,
    limitPerMinute: LIMIT,
    postgresPoolSize: POOL_SIZE,
    machine: { cpus: cpus().length, loadavg: loadavg().map((n) => Number(n.toFixed(2))) },
    targets,
  });
  console.log('\ntargets');
  for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'NOT MET'}  ${t.name}: ${t.value === undefined ? 'n/a' : t.value.toFixed(2)} (target ${t.target})`);
}

/** The baseline counter on Postgres: one prepared upsert per decision, same pool size and keys. */
async function rawPg(): Promise<Row> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: POOL_SIZE });
  const table = `"bench_rl_raw_${RUN_TAG}"`;
  try {
    await pool.query(`CREATE UNLOGGED TABLE ${table} (key text PRIMARY KEY, n int NOT NULL) WITH (fillfactor = 70)`);
    const text = `INSERT INTO ${table} (key, n) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET n = ${table}.n + 1 RETURNING n`;
    const op = (i: number) => pool.query({ name: 'bench-raw-counter', text, values: [`k${i % KEYS}`] });
    await runLoad(WARMUP, IN_FLIGHT, op);
    const result = await runLoad(DECISIONS, IN_FLIGHT, op);
    console.log(`raw-pg counter: ${Math.round(result.opsPerSec)}/s`);
    return { provider: 'raw-pg', algorithm: 'counter', decisionsPerSec: Math.round(result.opsPerSec), p50Ms: result.p50Ms, p99Ms: result.p99Ms };
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await pool.end();
  }
}

/** The baseline counter on Redis: one INCR per decision on a plain ioredis client. */
async function rawIoredis(): Promise<Row> {
  const redis = new Redis(REDIS_URL);
  const prefix = `bench:rl:${RUN_TAG}:raw:`;
  try {
    const op = (i: number) => redis.incr(`${prefix}k${i % KEYS}`);
    await runLoad(WARMUP, IN_FLIGHT, op);
    const result = await runLoad(DECISIONS, IN_FLIGHT, op);
    console.log(`raw-ioredis counter: ${Math.round(result.opsPerSec)}/s`);
    return { provider: 'raw-ioredis', algorithm: 'counter', decisionsPerSec: Math.round(result.opsPerSec), p50Ms: result.p50Ms, p99Ms: result.p99Ms };
  } finally {
    await unlinkByPrefix(redis, prefix, 1000);
    redis.disconnect();
  }
}

/** One baseline row from all its runs: the mean rate, the worst tails. */
function meanOf(runs: Row[]): Row {
  const decisionsPerSec = Math.round(runs.reduce((sum, run) => sum + run.decisionsPerSec, 0) / runs.length);
  console.log(`${runs[0]!.provider} ${runs[0]!.algorithm} (mean of ${runs.length} runs): ${decisionsPerSec}/s`);
  return {
    ...runs[0]!,
    decisionsPerSec,
    p50Ms: Math.max(...runs.map((run) => run.p50Ms)),
    p99Ms: Math.max(...runs.map((run) => run.p99Ms)),
    runsPerSec: runs.map((run) => run.decisionsPerSec),
  };
}

interface Verdict {
  name: string;
  value: number | undefined;
  target: string;
  met: boolean;
}

/** The targets: absolute floors per store, and every algorithm within 1.3x of the store's fastest. */
function verdicts(rows: Row[]): Verdict[] {
  const out: Verdict[] = [];
  const floors: Array<[string, number]> = [
    ['redis', 60_000],
    ['valkey', 60_000],
    ['postgres', 18_000],
  ];
  for (const [provider, floor] of floors) {
    const mine = rows.filter((r) => r.provider === provider);
    if (mine.length === 0) continue;
    const slowest = Math.min(...mine.map((r) => r.decisionsPerSec));
    const fastest = Math.max(...mine.map((r) => r.decisionsPerSec));
    out.push({ name: `${provider}: slowest algorithm, decisions/s`, value: slowest, target: `>= ${floor}`, met: slowest >= floor });
    out.push({ name: `${provider}: fastest / slowest algorithm`, value: fastest / slowest, target: '<= 1.3x', met: fastest / slowest <= 1.3 });
  }
  const pglite = rows.filter((r) => r.provider === 'pglite');
  if (pglite.length > 0) {
    const ratio = Math.max(...pglite.map((r) => r.decisionsPerSec)) / Math.min(...pglite.map((r) => r.decisionsPerSec));
    out.push({ name: 'pglite: fastest / slowest algorithm', value: ratio, target: '<= 1.3x', met: ratio <= 1.3 });
  }
  const raw = rows.find((r) => r.provider === 'raw-pg');
  const pgRows = rows.filter((r) => r.provider === 'postgres');
  if (raw && pgRows.length > 0) {
    const share = Math.min(...pgRows.map((r) => r.decisionsPerSec)) / raw.decisionsPerSec;
    out.push({ name: 'postgres slowest algorithm / raw-pg counter (context, no target)', value: share, target: 'n/a', met: true });
  }
  return out;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
