import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { report } from '../support/report.js';
import { runLoad, type LoadResult } from '../support/run-load.js';
import {
  ballastPglite,
  ballastPostgres,
  ballastRedisProtocol,
  rawIoredis,
  rawPg,
  rawPglite,
  type CacheContender,
} from './cache-contenders.js';

/**
 * `npm run bench:cache`: get / set / getOrSet through Ballast's `CacheService` on every provider,
 * next to the raw driver on the same server, in one run. On Postgres there are two raw baselines:
 * plain (unnamed) statements, as most hand-written code sends them and as the target is
 * stated, and named prepared statements, which Ballast itself uses, so the library's own cost shows
 * apart from the gain of preparing.
 *
 * Method: contenders that share a server form a group. Each (provider, op) gets OPS measured ops,
 * split into ROUNDS rounds; in a round every contender of the group runs the op once, the order
 * rotating from round to round, each run preceded by warm-up ops of the same kind (WARMUP before the
 * first round, a quarter of it before later ones). A row keeps the best round (noise on a shared
 * machine only ever slows a run down). Ballast's overhead over the raw driver is given from the
 * best rounds and as the median of the per-round ratios (the runs of one round are adjacent in
 * time, so they saw similar load); the target verdict uses the latter. The client CPU per op
 * (process.cpuUsage) is printed too, as a second view of what the library adds in JS.
 *
 * Env: BENCH_OPS, BENCH_ROUNDS, BENCH_WARMUP, BENCH_CONCURRENCY, BENCH_ONLY (comma-separated group
 * names: postgres, pglite, redis), BENCH_PGLITE_BASELINE=1 (adds raw-pglite; PGlite is slow, so
 * it is off by default to keep the run under 3 minutes), BENCH_DATABASE_URL, BENCH_REDIS_URL,
 * BENCH_VALKEY_URL.
 */

const OPS = intEnv('BENCH_OPS', 20_000);
const ROUNDS = intEnv('BENCH_ROUNDS', 4);
const OPS_PER_ROUND = Math.ceil(OPS / ROUNDS);
const WARMUP = intEnv('BENCH_WARMUP', 2_000);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 50);
/** Distinct keys; every key is written before the read ops, so get and getOrSet always hit. */
const KEY_SPACE = 2_000;
const VALUE_BYTES = 200;
/** TTL of every write: long enough that nothing expires during the run, so reads check expiry and hit. */
const TTL_MS = 10 * 60_000;
/** Ballast's stores should cost no more than this over the raw driver on the same server. */
const TARGET_OVERHEAD_PCT = 10;

const OPERATIONS = ['set', 'get', 'getOrSet'] as const;
type Operation = (typeof OPERATIONS)[number];

const GROUPS: Array<{ name: string; open: Array<() => Promise<CacheContender>> }> = [
  { name: 'postgres', open: [ballastPostgres, () => rawPg(false), () => rawPg(true)] },
  { name: 'pglite', open: process.env.BENCH_PGLITE_BASELINE === '1' ? [ballastPglite, rawPglite] : [ballastPglite] },
  { name: 'redis', open: [() => ballastRedisProtocol('redis'), () => ballastRedisProtocol('valkey'), rawIoredis] },
];

const KEYS = Array.from({ length: KEY_SPACE }, (_, i) => `item:${i}`);
/** A few distinct values, each exactly VALUE_BYTES of JSON; prebuilt so allocation is not measured. */
const VALUES = Array.from({ length: 16 }, (_, i) => jsonValueOfSize(i, VALUE_BYTES));

let loaderCalls = 0;
const loader = () => {
  loaderCalls++;
  return VALUES[0];
};

function operation(contender: CacheContender, op: Operation, offset: number): (i: number) => Promise<unknown> {
  const key = (i: number) => KEYS[(i + offset) % KEY_SPACE]!;
  switch (op) {
    case 'set':
      return (i) => contender.set(key(i), VALUES[i % VALUES.length], TTL_MS);
    case 'get':
      return async (i) => {
        if ((await contender.get(key(i))) === undefined) throw new Error(`${contender.provider}: get missed ${key(i)}`);
      };
    case 'getOrSet':
      return (i) => contender.getOrSet(key(i), loader, TTL_MS);
  }
}

/** One measured run: runLoad's figures plus this process's CPU time per op (user + system). */
interface RoundResult extends LoadResult {
  cpuUsPerOp: number;
}

interface Measured {
  provider: string;
  op: Operation;
  rounds: RoundResult[];
}

async function runGroup(contenders: CacheContender[], measured: Map<string, Measured>): Promise<void> {
  // Write every key once: fills the tables / key spaces and opens each pool's connections.
  for (const contender of contenders) await runLoad(KEY_SPACE, CONCURRENCY, operation(contender, 'set', 0));
  for (let round = 0; round < ROUNDS; round++) {
    for (const op of OPERATIONS) {
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!);
      for (const contender of order) {
        // Warm-up and measured ops start at different keys each round; for get, any key hits.
        const offset = round * OPS_PER_ROUND;
        await runLoad(round === 0 ? WARMUP : Math.ceil(WARMUP / 4), CONCURRENCY, operation(contender, op, offset + OPS_PER_ROUND));
        const cpu = process.cpuUsage();
        const load = await runLoad(OPS_PER_ROUND, CONCURRENCY, operation(contender, op, offset));
        const used = process.cpuUsage(cpu);
        const result: RoundResult = { ...load, cpuUsPerOp: (used.user + used.system) / load.ops };
        const id = `${contender.provider}/${op}`;
        const entry = measured.get(id) ?? { provider: contender.provider, op, rounds: [] };
        entry.rounds.push(result);
        measured.set(id, entry);
        console.log(
          `  round ${round + 1}/${ROUNDS} ${id.padEnd(26)} ${Math.round(result.opsPerSec).toString().padStart(7)} ops/s  ` +
            `p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  cpu ${result.cpuUsPerOp.toFixed(1)} µs/op`,
        );
      }
    }
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const groups = GROUPS.filter((g) => !only || only.includes(g.name));
  console.log(
    `cache bench: ${OPS} ops per (provider, op) in ${ROUNDS} rounds of ${OPS_PER_ROUND}, ${CONCURRENCY} in flight, ` +
      `${VALUE_BYTES}-byte JSON values, ${KEY_SPACE} keys, warm-up ${WARMUP} ops`,
  );
  console.log('getOrSet measures the hit path: every key is written first, so the loader never runs.');

  const measured = new Map<string, Measured>();
  const baselines = new Map<string, readonly string[]>();
  const groupSeconds: Record<string, number> = {};
  for (const group of groups) {
    console.log(`\n[${group.name}]`);
    const groupStarted = performance.now();
    const contenders: CacheContender[] = [];
    try {
      for (const open of group.open) contenders.push(await open());
      for (const c of contenders) if (c.baselines) baselines.set(c.provider, c.baselines);
      await runGroup(contenders, measured);
    } finally {
      for (const contender of contenders) {
        await contender.close().catch((error: unknown) => console.error(`cleanup of ${contender.provider} failed:`, error));
      }
    }
    groupSeconds[group.name] = Math.round((performance.now() - groupStarted) / 1000);
    console.log(`  [${group.name}] ${groupSeconds[group.name]}s`);
  }

  const rows = [...measured.values()].map(({ provider, op, rounds }) => {
    const best = bestOf(rounds);
    return { provider, op, opsPerSec: round1(best.opsPerSec), p50Ms: round3(best.p50Ms), p99Ms: round3(best.p99Ms) };
  });
  const comparisons = compare(measured, baselines);
  const elapsedSec = Math.round((performance.now() - started) / 1000);

  report('cache', rows, {
    method: {
      opsPerProviderAndOp: OPS_PER_ROUND * ROUNDS,
      rounds: ROUNDS,
      opsPerRound: OPS_PER_ROUND,
      warmupOps: { firstRound: WARMUP, laterRounds: Math.ceil(WARMUP / 4) },
      concurrency: CONCURRENCY,
      valueBytes: VALUE_BYTES,
      keySpace: KEY_SPACE,
      ttlMs: TTL_MS,
      rowIs: 'best of the rounds (highest ops/s) with that round’s p50/p99',
      getOrSet: 'hit path: every key is written before, the loader ran 0 times unless loaderCalls says otherwise',
      overhead:
        'ballast time per op / raw time per op - 1, in %: overheadPct from the rows (best rounds), pairedMedianPct = median over ' +
        'rounds of the same-round ratio (the verdict, withinTarget, uses this one); clientCpu* = CPU time of this Node process ' +
        'per op (median over rounds): what the library adds in JS, blind to server-side cost and inflated for everyone on a ' +
        'machine whose cores are oversubscribed',
      targetOverheadPct: TARGET_OVERHEAD_PCT,
    },
    loaderCalls,
    elapsedSec,
    groupSeconds,
    comparisons,
    roundsOpsPerSec: Object.fromEntries([...measured].map(([id, m]) => [id, m.rounds.map((r) => round1(r.opsPerSec))])),
  });
  if (comparisons.length > 0) {
    const table = comparisons.map((c) => ({
      ballast: c.provider,
      raw: c.baseline,
      op: c.op,
      overheadPct: c.overheadPct,
      pairedMedianPct: c.pairedMedianPct,
      p50DeltaMs: c.p50DeltaMs,
      cpuUsPerOp: `${c.clientCpuUsPerOp.toFixed(1)} vs ${c.rawClientCpuUsPerOp.toFixed(1)}`,
      cpuOverheadPct: c.clientCpuOverheadPct,
      target: c.withinTarget ? 'ok' : `>${TARGET_OVERHEAD_PCT}%`,
    }));
    printTable(`ballast vs raw driver on the same server (target <= ${TARGET_OVERHEAD_PCT}% overhead)`, table);
  }
  console.log(`\nloader calls during getOrSet: ${loaderCalls}; total ${elapsedSec}s`);
}

interface Comparison {
  provider: string;
  baseline: string;
  op: Operation;
  overheadPct: number;
  pairedMedianPct: number;
  p50DeltaMs: number;
  /** Median over rounds of this process's CPU µs per op: Ballast's, the raw driver's, and the difference in %. */
  clientCpuUsPerOp: number;
  rawClientCpuUsPerOp: number;
  clientCpuOverheadPct: number;
  withinTarget: boolean;
}

function compare(measured: Map<string, Measured>, baselines: Map<string, readonly string[]>): Comparison[] {
  const out: Comparison[] = [];
  for (const [provider, raws] of baselines) {
    for (const baseline of raws) {
      for (const op of OPERATIONS) {
        const ours = measured.get(`${provider}/${op}`);
        const raw = measured.get(`${baseline}/${op}`);
        if (!ours || !raw) continue;
        const best = bestOf(ours.rounds);
        const rawBest = bestOf(raw.rounds);
        const overheadPct = (rawBest.opsPerSec / best.opsPerSec - 1) * 100;
        const paired = ours.rounds.map((r, i) => (raw.rounds[i]!.opsPerSec / r.opsPerSec - 1) * 100);
        const pairedMedianPct = median(paired);
        const cpu = median(ours.rounds.map((r) => r.cpuUsPerOp));
        const rawCpu = median(raw.rounds.map((r) => r.cpuUsPerOp));
        out.push({
          provider,
          baseline,
          op,
          overheadPct: round1(overheadPct),
          pairedMedianPct: round1(pairedMedianPct),
          p50DeltaMs: round3(best.p50Ms - rawBest.p50Ms),
          clientCpuUsPerOp: round1(cpu),
          rawClientCpuUsPerOp: round1(rawCpu),
          clientCpuOverheadPct: round1((cpu / rawCpu - 1) * 100),
          withinTarget: pairedMedianPct <= TARGET_OVERHEAD_PCT,
        });
      }
    }
  }
  return out;
}

/** Prints like `report()` without writing a file (the comparisons go into cache.json with the rows). */
function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((c) => (typeof row[c] === 'number' ? (row[c] as number).toFixed(1) : String(row[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padStart(widths[i]!)).join('  ');
  console.log(`\n${title}`);
  console.log(line(columns));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) console.log(line(row));
}

function bestOf<R extends LoadResult>(rounds: R[]): R {
  return rounds.reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A plain object whose JSON text is exactly `bytes` long (ASCII, so bytes = characters). */
function jsonValueOfSize(id: number, bytes: number): Record<string, unknown> {
  const value = { id, name: `item ${id}`, price: 1999 + id, tags: ['bench', 'cache'], pad: '' };
  const missing = bytes - JSON.stringify(value).length;
  if (missing < 0) throw new Error(`value ${id} is already over ${bytes} bytes`);
  value.pad = 'x'.repeat(missing);
  return value;
}

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
