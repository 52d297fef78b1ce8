import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { deleteKeys, dropSchema } from '../support/cleanup.js';
import { report } from '../support/report.js';
import { percentile, runLoad } from '../support/run-load.js';
import { probe } from './queue-bench.probe.js';
import { ballast, naiveLoop, openPglite, rawBullmq, type QueueContender } from './queue-contenders.js';
import { measureSchedules, type SchedulesResult } from './queue-schedules.js';
import { measureKeyed, type KeyedResult } from './queue-keyed.js';

/**
 * `npm run bench:queue`: one run, one process, each contender in turn on the same servers.
 *
 * Per contender: JOBS no-op jobs enqueued one per call by ENQUEUE_CONCURRENCY concurrent callers
 * (the same for everyone: what a web app's request handlers do), then JOBS in one bulk call (into
 * another queue), then the drain: workers with concurrency 10 start on the first queue; the clock
 * runs from the first handler start (start-up is reported apart, as `workerStartMs`) until every job
 * has run and the backend reports none waiting or active. Then pickup latency:
 * the idle workers get PICKUPS jobs one at a time, each awaited before the next; latency runs from
 * the `add` call to the first line of the handler (so it includes the enqueue round trip; the JSON
 * also gives it from the moment `add` resolved, as `pickupFromAck`). Handlers
 * count runs per job id: a job run twice is reported, and must not happen on ballast-postgres.
 *
 * Then the schedules row (`schedules` in BENCH_ONLY): BENCH_SCHEDULES (1000) cron schedules due in
 * the same second on Postgres with three app instances running the scheduler; it reports how many
 * tick jobs were enqueued, how many twice, and how late (see `queue-schedules.ts`).
 *
 * Then the keyed rows (`keyed-postgres`, `keyed-bullmq` in BENCH_ONLY): BENCH_KEYED_PROCESSES (4)
 * worker processes drain BENCH_JOBS jobs without keys, over 100 keys at limit 1, and with one hot key
 * holding 90% of them (see `queue-keyed.ts`).
 *
 * Env: BENCH_JOBS (10000), BENCH_ENQUEUE_CONCURRENCY (10), BENCH_PICKUPS (200), BENCH_ONLY
 * (comma-separated contender names, and `schedules`), BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_DURABLE_ENQUEUE
 * (`false` runs the Postgres contenders with `queue.durableEnqueue: false`; the default is Ballast's).
 */

const JOBS = intEnv('BENCH_JOBS', 10_000);
const WORKER_CONCURRENCY = 10;
const ENQUEUE_CONCURRENCY = intEnv('BENCH_ENQUEUE_CONCURRENCY', 10);
const PICKUPS = intEnv('BENCH_PICKUPS', 200);
const PICKUP_WARMUP = 10;
/** Jobs per contender in the untimed warm-up round. */
const WARMUP_JOBS = 1000;
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const RUN = randomBytes(4).toString('hex');
const SCHEDULES = intEnv('BENCH_SCHEDULES', 1000);
/** Worker processes of the keyed rows. */
const KEYED_PROCESSES = intEnv('BENCH_KEYED_PROCESSES', 4);
const QUEUE_OPTIONS = process.env.BENCH_DURABLE_ENQUEUE === 'false' ? { durableEnqueue: false } : {};

interface Row {
  contender: string;
  enqueueMs: number;
  enqueueBulkMs: number;
  drainMs: number;
  jobsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

const CONTENDERS: Array<{ name: string; open: () => Promise<QueueContender>; cleanup: () => Promise<void> }> = [
  {
    name: 'ballast-postgres',
    open: () => ballast('ballast-postgres', 'postgres', { postgres: { connectionString: DATABASE_URL }, schema: `bench_queue_${RUN}`, queue: QUEUE_OPTIONS }),
    cleanup: () => dropSchema(DATABASE_URL, `bench_queue_${RUN}`),
  },
  {
    name: 'ballast-pglite',
    open: async () => ballast('ballast-pglite', 'postgres', { postgres: { pglite: (pglite ??= await openPglite()) }, schema: 'bench_queue', queue: QUEUE_OPTIONS }),
    cleanup: async () => {
      await pglite?.close();
      pglite = undefined;
    },
  },
  {
    name: 'ballast-redis',
    open: () => ballast('ballast-redis', 'redis', { redis: { url: REDIS_URL }, keyPrefix: `bench:${RUN}:ballast:` }),
    cleanup: () => deleteKeys(REDIS_URL, `bench:${RUN}:ballast:`),
  },
  {
    name: 'bullmq-raw',
    open: () => rawBullmq(REDIS_URL, `bench:${RUN}:raw`),
    cleanup: () => deleteKeys(REDIS_URL, `bench:${RUN}:raw`),
  },
  {
    name: 'naive-pg',
    open: () => naiveLoop(DATABASE_URL, `bench_naive_${RUN}`),
    cleanup: async () => undefined,
  },
];

let pglite: Awaited<ReturnType<typeof openPglite>> | undefined;

async function measure(
  contender: QueueContender,
  jobs = JOBS,
  pickups = PICKUPS,
): Promise<{ row: Row; duplicates: number; workerStartMs: number; pickupFromAck: { p50Ms: number; p99Ms: number } }> {
  probe.reset();
  const single = await runLoad(jobs, ENQUEUE_CONCURRENCY, (i) => contender.addOne(i));

  let t0 = performance.now();
  await contender.addBulk(jobs);
  const enqueueBulkMs = performance.now() - t0;

  await contender.prepareWorkers();
  const allRan = probe.untilRuns(jobs);
  t0 = performance.now();
  await contender.startWorkers(WORKER_CONCURRENCY);
  await allRan;
  await contender.settled();
  // From the first handler start, so each contender's process start-up (Nest bootstrap, connections,
  // worker set-up) is not counted as work; it is reported apart as workerStartMs.
  const drainMs = performance.now() - probe.firstStartedAt;
  const workerStartMs = probe.firstStartedAt - t0;

  const latencies: number[] = [];
  const fromAck: number[] = [];
  for (let i = 0; i < PICKUP_WARMUP + pickups; i++) {
    const started = probe.nextRun();
    const sent = performance.now();
    await contender.addPickup(i);
    const acked = performance.now();
    const at = await started;
    if (i < PICKUP_WARMUP) continue;
    latencies.push(at - sent);
    // A worker may start the job before the add's reply arrives: that counts as 0.
    fromAck.push(Math.max(0, at - acked));
  }
  latencies.sort((a, b) => a - b);
  fromAck.sort((a, b) => a - b);
  return {
    row: {
      contender: contender.name,
      enqueueMs: single.elapsedMs,
      enqueueBulkMs,
      drainMs,
      jobsPerSec: (jobs / drainMs) * 1000,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
    },
    duplicates: probe.duplicates(),
    workerStartMs: round(workerStartMs),
    pickupFromAck: { p50Ms: round(percentile(fromAck, 0.5)), p99Ms: round(percentile(fromAck, 0.99)) },
  };
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const rows: Row[] = [];
  const duplicateRuns: Record<string, number> = {};
  const pickupFromAck: Record<string, { p50Ms: number; p99Ms: number }> = {};
  const workerStartMs: Record<string, number> = {};
  const chosen = CONTENDERS.filter((entry) => !only || only.includes(entry.name));
  // An untimed small round of every contender first: BullMQ, ioredis, pg and msgpack code is shared
  // by several contenders, and whoever ran first would otherwise pay the JIT warm-up for the rest.
  process.stdout.write('warm-up round... ');
  for (const entry of chosen) {
    const contender = await entry.open();
    try {
      await measure(contender, WARMUP_JOBS, PICKUP_WARMUP);
    } finally {
      await contender.close();
      await entry.cleanup();
    }
  }
  console.log('done');
  for (const entry of chosen) {
    process.stdout.write(`${entry.name}... `);
    const contender = await entry.open();
    try {
      const { row, duplicates, pickupFromAck: fromAck, workerStartMs: startMs } = await measure(contender);
      workerStartMs[entry.name] = startMs;
      rows.push(row);
      duplicateRuns[entry.name] = duplicates;
      pickupFromAck[entry.name] = fromAck;
      console.log(`drained ${JOBS} in ${row.drainMs.toFixed(0)} ms, ${duplicates} ran twice`);
    } finally {
      await contender.close();
      await entry.cleanup();
    }
  }
  let schedules: SchedulesResult | undefined;
  if (!only || only.includes('schedules')) {
    process.stdout.write(`schedules (${SCHEDULES} due in one second, 3 replicas)... `);
    const schema = `bench_sched_${RUN}`;
    try {
      schedules = await measureSchedules(DATABASE_URL, schema, SCHEDULES, 3);
    } finally {
      await dropSchema(DATABASE_URL, schema);
    }
    console.log(`${schedules.enqueued} enqueued, ${schedules.duplicates} twice, lag p50 ${schedules.lagP50Ms} ms, max ${schedules.lagMaxMs} ms`);
  }
  const keyed: KeyedResult[] = [];
  for (const provider of ['postgres', 'bullmq'] as const) {
    if (only && !only.includes(`keyed-${provider}`)) continue;
    process.stdout.write(`keyed rows on ${provider} (${JOBS} jobs, ${KEYED_PROCESSES} worker processes)... `);
    const connection = { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: `bench_keyed_${RUN}`, keyPrefix: `bench:${RUN}:keyed:` };
    try {
      keyed.push(...(await measureKeyed(provider, connection, JOBS, KEYED_PROCESSES)));
    } finally {
      if (provider === 'postgres') await dropSchema(DATABASE_URL, connection.schema);
      else await deleteKeys(REDIS_URL, connection.keyPrefix);
    }
    console.log('done');
  }
  if (keyed.length > 0) console.table(keyed);
  const targets = [...verdicts(rows, duplicateRuns), ...scheduleVerdicts(schedules), ...keyedVerdicts(keyed)];
  report('queue', (rows.length > 0 ? rows : [{ contender: 'none' }]) as unknown as Array<Record<string, string | number>>, {
    note: 'One run in one process on a shared 2-core machine; other work ran at the same time, so absolute figures are noisy. Ratios compare contenders of the same run.',
    settings: {
      jobs: JOBS,
      workerConcurrency: WORKER_CONCURRENCY,
      enqueueConcurrency: ENQUEUE_CONCURRENCY,
      enqueueMode: `${JOBS} add() calls, one job each, ${ENQUEUE_CONCURRENCY} callers at a time`,
      pickups: PICKUPS,
      durableEnqueue: QUEUE_OPTIONS.durableEnqueue ?? true,
      pickupFrom: 'p50Ms/p99Ms: from the add() call to the handler start; pickupFromAck: from add() resolving',
    },
    machine: { cpus: cpus().length, loadavg: loadavg().map((n) => Number(n.toFixed(2))) },
    duplicateRuns,
    pickupFromAck,
    workerStartMs,
    schedules,
    keyed,
    targets,
  });
  console.log('\ntargets');
  for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'NOT MET'}  ${t.name}: ${t.value === undefined ? 'n/a' : t.value.toFixed(2)} (target ${t.target})`);
}

interface Verdict {
  name: string;
  value: number | undefined;
  target: string;
  met: boolean;
}

function verdicts(rows: Row[], duplicateRuns: Record<string, number>): Verdict[] {
  const by = (name: string) => rows.find((row) => row.contender === name);
  const pg = by('ballast-postgres');
  const bull = by('bullmq-raw');
  const naive = by('naive-pg');
  const redis = by('ballast-redis');
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a / b);
  const atMost = (name: string, value: number | undefined, max: number, unit = 'x'): Verdict => ({
    name,
    value,
    target: `<= ${max}${unit}`,
    met: value !== undefined && value <= max,
  });
  return [
    atMost('drain ballast-postgres / bullmq-raw', ratio(pg?.drainMs, bull?.drainMs), 0.5),
    { name: 'drain naive-pg / ballast-postgres', value: ratio(naive?.drainMs, pg?.drainMs), target: '>= 5x', met: (ratio(naive?.drainMs, pg?.drainMs) ?? 0) >= 5 },
    atMost('enqueue one at a time ballast-postgres / bullmq-raw', ratio(pg?.enqueueMs, bull?.enqueueMs), 2),
    atMost('bulk enqueue ballast-postgres / bullmq-raw', ratio(pg?.enqueueBulkMs, bull?.enqueueBulkMs), 0.3),
    atMost('pickup p50 ballast-postgres', pg?.p50Ms, 1, ' ms'),
    atMost('pickup p99 ballast-postgres', pg?.p99Ms, 5, ' ms'),
    atMost('drain ballast-redis / bullmq-raw', ratio(redis?.drainMs, bull?.drainMs), 1.1),
    atMost('pickup p50 ballast-redis', redis?.p50Ms, 0.5, ' ms'),
    { name: 'jobs run twice on ballast-postgres', value: duplicateRuns['ballast-postgres'], target: '= 0', met: duplicateRuns['ballast-postgres'] === 0 },
  ];
}

/** The schedules target: every tick enqueued within 1 s of due, none twice, none lost. */
function scheduleVerdicts(result: SchedulesResult | undefined): Verdict[] {
  if (!result) return [];
  return [
    { name: `schedules: ${result.schedules} due in one second, tick jobs enqueued`, value: result.enqueued, target: `= ${result.schedules}`, met: result.enqueued === result.schedules },
    { name: 'schedules: tick jobs enqueued twice', value: result.duplicates, target: '= 0', met: result.duplicates === 0 },
    { name: 'schedules: latest enqueue after due, ms', value: result.lagMaxMs, target: '<= 1000', met: result.lagMaxMs <= 1000 },
  ];
}

/**
 * The issue's keyed targets, per provider: 100 keys at limit 1 drain within 1.5x the unkeyed drain
 * of the same run; with one hot key holding 90% of the jobs, the other keys' jobs are all started
 * about as soon as without it (their own share of the workers is all they need).
 */
function keyedVerdicts(results: KeyedResult[]): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const provider of ['postgres', 'bullmq'] as const) {
    const of = (prefix: string) => results.find((r) => r.provider === provider && r.scenario.startsWith(prefix));
    const unkeyed = of('unkeyed');
    const keys = of('100 keys');
    const hot = of('hot');
    const alone = of('others');
    if (!unkeyed || !keys || !hot || !alone) continue;
    const drain = keys.drainMs / unkeyed.drainMs;
    const delay = hot.othersDoneMs! / alone.othersDoneMs!;
    verdicts.push({ name: `keyed ${provider}: drain 100 keys limit 1 / unkeyed`, value: drain, target: '<= 1.5x', met: drain <= 1.5 });
    verdicts.push({ name: `keyed ${provider}: other keys done, with the hot key / without it`, value: delay, target: '<= 1.1x', met: delay <= 1.1 });
  }
  return verdicts;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function intEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
