import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgPoolDatabase } from '../../lib/core/connections/pg-pool.database.js';
import { openPostgresJobStore } from '../../lib/drivers/postgres/queue/open-postgres-job-store.js';
import { JobStoreBackend } from '../../lib/queue/runner/job-store.backend.js';
import { benchJob } from './bench-job.js';
import { until } from '../support/until.js';
import { dropSchema } from '../support/cleanup.js';
import { report } from '../support/report.js';

/**
 * `npm run bench:queue-scale`: the Postgres queue with many worker processes and deep tables, each
 * worker a process of its own (`queue-worker.process.ts`, concurrency 10, no-op handler), filled
 * while the queue is paused and timed from the resume.
 *
 * - processes: BENCH_SCALE_JOBS (100,000) jobs drained by 1, 2 and 4 processes, each on a queue of
 *   its own: jobs per second, and how many jobs ran twice (must be none).
 * - depth: with 4 processes, the time to start the first BENCH_SCALE_SAMPLE (20,000) jobs when
 *   the queue holds 10,000 waiting jobs in all (the baseline), 1,000,000 waiting, or 10,000 waiting
 *   beside 1,000,000 completed jobs kept by their retention. The deep rows are written by one
 *   INSERT ... SELECT (the rows `add` would write) and analysed, as autovacuum would soon.
 *
 * Env: BENCH_SCALE_JOBS, BENCH_SCALE_SAMPLE, BENCH_SCALE_DEEP (1,000,000), BENCH_DATABASE_URL.
 */

const JOBS = intEnv('BENCH_SCALE_JOBS', 100_000);
const SAMPLE = intEnv('BENCH_SCALE_SAMPLE', 20_000);
const DEEP = intEnv('BENCH_SCALE_DEEP', 1_000_000);
const BASELINE = Math.max(10_000, SAMPLE);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `bench_scale_${randomBytes(4).toString('hex')}`;

interface Drain {
  scenario: string;
  processes: number;
  jobs: number;
  /** Jobs in the table besides the timed ones' queue state (waiting or completed), at the start. */
  tableRows: number;
  ms: number;
  jobsPerSec: number;
  ranTwice: number;
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const db = new PgPoolDatabase(pool, true);
  const { store, wakeup } = await openPostgresJobStore(db, SCHEMA, { durableEnqueue: true });
  const backend = new JobStoreBackend('postgres', store, wakeup, 'Postgres queue', {});
  const rows: Drain[] = [];
  try {
    for (const processes of [1, 2, 4]) {
      const queue = `procs-${processes}`;
      await backend.pause(queue);
      await addJobs(backend, queue, JOBS);
      process.stdout.write(`${JOBS} jobs, ${processes} process(es)... `);
      const row = await drain(`processes`, queue, processes, JOBS, JOBS, () => backend.resume(queue));
      rows.push(row);
      console.log(`${row.jobsPerSec} jobs/s, ${row.ranTwice} ran twice`);
    }
    const depth = async (scenario: string, queue: string, fill: () => Promise<number>) => {
      await backend.pause(queue);
      const tableRows = await fill();
      await pool.query(`ANALYZE ${SCHEMA}.queue_jobs`);
      process.stdout.write(`${scenario}... `);
      const row = await drain(scenario, queue, 4, SAMPLE, tableRows, () => backend.resume(queue));
      rows.push(row);
      console.log(`${row.jobsPerSec} jobs/s`);
      // Out of the way of the next scenario.
      await pool.query(`DELETE FROM ${SCHEMA}.queue_jobs WHERE queue = $1`, [queue]);
      await pool.query(`VACUUM ANALYZE ${SCHEMA}.queue_jobs`);
    };
    await depth(`depth: ${BASELINE} waiting`, 'depth-base', async () => {
      await addJobs(backend, 'depth-base', BASELINE);
      return BASELINE;
    });
    await depth(`depth: ${DEEP} waiting`, 'depth-waiting', async () => {
      await insertRows(pool, 'depth-waiting', DEEP, 'waiting');
      return DEEP;
    });
    await depth(`depth: ${BASELINE} waiting + ${DEEP} completed kept`, 'depth-kept', async () => {
      await insertRows(pool, 'depth-kept', DEEP, 'completed');
      await addJobs(backend, 'depth-kept', BASELINE);
      return DEEP + BASELINE;
    });
  } finally {
    await backend.close();
    await db.close();
    await dropSchema(DATABASE_URL, SCHEMA);
  }
  const rate = (scenario: string) => rows.find((r) => r.scenario === scenario)?.jobsPerSec;
  const base = rate(`depth: ${BASELINE} waiting`);
  const slower = (scenario: string) => {
    const value = rate(scenario);
    return value === undefined || base === undefined ? undefined : base / value;
  };
  const targets = [
    { name: 'jobs run twice (all process counts)', value: rows.reduce((n, r) => n + r.ranTwice, 0), target: '= 0' },
    { name: `drain rate, ${DEEP} waiting: slower than ${BASELINE} waiting by`, value: slower(`depth: ${DEEP} waiting`), target: '<= 1.3x' },
    { name: `drain rate, ${DEEP} completed kept: slower than ${BASELINE} waiting by`, value: slower(`depth: ${BASELINE} waiting + ${DEEP} completed kept`), target: '<= 1.3x' },
  ].map((t) => ({ ...t, met: t.value !== undefined && (t.target === '= 0' ? t.value === 0 : t.value <= 1.3) }));
  report('queue-scale', rows as unknown as Array<Record<string, string | number>>, {
    note: 'One run on a shared 2-core machine (the worker processes and Postgres share it); compare rows of the same run.',
    settings: { jobs: JOBS, sample: SAMPLE, deep: DEEP, workerConcurrency: 10 },
    machine: { cpus: cpus().length, loadavg: loadavg().map((n) => Number(n.toFixed(2))) },
    targets,
  });
  console.log('\ntargets');
  for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'NOT MET'}  ${t.name}: ${t.value === undefined ? 'n/a' : Number(t.value.toFixed(2))} (target ${t.target})`);
}

/**
 * Starts `processes` worker processes on `queue`, resumes it, and times the first `jobs` handler
 * starts; counts jobs that started more than once.
 */
async function drain(scenario: string, queue: string, processes: number, jobs: number, tableRows: number, resume: () => Promise<void>): Promise<Drain> {
  const children: ChildProcess[] = [];
  const seen = new Set<string>();
  let ranTwice = 0;
  let ready = 0;
  try {
    for (let i = 0; i < processes; i++) {
      const child = fork(fileURLToPath(new URL('./queue-worker.process.js', import.meta.url)), [], {
        env: { ...process.env, BENCH_WORKER_PROVIDER: 'postgres', BENCH_WORKER_QUEUE: queue, BENCH_WORKER_CONCURRENCY: '10', BENCH_WORKER_DATABASE_URL: DATABASE_URL, BENCH_WORKER_SCHEMA: SCHEMA },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      child.on('message', (message) => {
        if (message === 'ready') return void ready++;
        for (const [id] of message as Array<[string, string, number]>) {
          if (seen.has(id)) ranTwice++;
          else seen.add(id);
        }
      });
      children.push(child);
    }
    await until('the worker processes to start', () => ready === processes, 60_000);
    const started = performance.now();
    await resume();
    await until(`${jobs} jobs to start`, () => seen.size >= jobs, 600_000);
    const ms = performance.now() - started;
    // A moment more, so a job run twice just after the count is seen too.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { scenario, processes, jobs, tableRows, ms: Math.round(ms), jobsPerSec: Math.round((jobs / ms) * 1000), ranTwice };
  } finally {
    for (const child of children) child.kill('SIGKILL');
  }
}

async function addJobs(backend: JobStoreBackend, queue: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 5000) {
    await backend.add(Array.from({ length: Math.min(5000, count - i) }, () => benchJob(queue, {})));
  }
}

/** `count` rows of `queue` in `state`, as `add` (and, for completed, a kept completion) writes them. */
async function insertRows(pool: pg.Pool, queue: string, count: number, state: 'waiting' | 'completed'): Promise<void> {
  await pool.query(
    `INSERT INTO ${SCHEMA}.queue_jobs (queue, name, data, state, max_attempts, timeout_ms, keep_completed, attempts_made, finished_at)
     SELECT $1, 'job', '{}'::jsonb, $2, 1, 30000, CASE WHEN $2 = 'completed' THEN NULL ELSE 0 END,
            CASE WHEN $2 = 'completed' THEN 1 ELSE 0 END, CASE WHEN $2 = 'completed' THEN now() END
     FROM generate_series(1, $3::int)`,
    [queue, state, count],
  );
}



function intEnv(name: string, fallback: number): number {
  const value = process.env[name];
  return value === undefined ? fallback : Number.parseInt(value, 10);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
