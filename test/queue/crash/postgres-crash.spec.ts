import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgPoolDatabase } from '../../../lib/core/connections/pg-pool.database.js';
import { openPostgresJobStore } from '../../../lib/drivers/postgres/queue/open-postgres-job-store.js';
import { JobStoreBackend } from '../../../lib/queue/runner/job-store.backend.js';
import { dropSchemaOnServer } from '../../support/backends.js';
import { TEST_DATABASE_URL } from '../../support/test-env.js';
import { uniqueSchema } from '../../support/unique-name.js';
import { waitFor } from '../../support/wait-for.js';
import { newJob } from '../postgres-queue.harness.js';

const JOBS = 2000;
const WORKERS = 3;
const KILLS = 6;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

interface Child {
  process: ChildProcess;
  ready: boolean;
  inFlight: Set<string>;
}

/**
 * At-least-once under crashes: worker processes are SIGKILLed mid-job while 2,000 jobs run and new
 * ones take their place. Every job must end completed (none lost, none dead-lettered); jobs that
 * were running (or finished but not yet written) in a killed process run again, and the test
 * reports how many.
 */
describe('Postgres queue under worker crashes', () => {
  const schema = uniqueSchema('crash');
  const children: Child[] = [];
  const starts = new Map<string, number>();
  const dones = new Set<string>();

  afterAll(async () => {
    for (const child of children) child.process.kill('SIGKILL');
    await dropSchemaOnServer(schema);
  });

  const spawnWorker = (): Child => {
    const child: Child = {
      process: spawn(process.execPath, ['--import', here('./register-ts.mjs'), here('./postgres-crash.worker.ts')], {
        env: { ...process.env, CRASH_SCHEMA: schema, CRASH_DATABASE_URL: TEST_DATABASE_URL, CRASH_MAX_STALLS: String(KILLS) },
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
      ready: false,
      inFlight: new Set(),
    };
    createInterface({ input: child.process.stdout! }).on('line', (line) => {
      const [kind, id] = line.split(' ');
      if (kind === 'ready') child.ready = true;
      else if (kind === 'start' && id) {
        starts.set(id, (starts.get(id) ?? 0) + 1);
        child.inFlight.add(id);
      } else if (kind === 'done' && id) {
        dones.add(id);
        child.inFlight.delete(id);
      }
    });
    children.push(child);
    return child;
  };

  it('completes every job, none lost, when workers are killed mid-job', async () => {
    const db = new PgPoolDatabase(new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 }), true);
    try {
      const backend = await openSqlRunner(db, schema);
      // Short leases, so the jobs of a killed worker come back within about a second. One attempt:
      // a crash gives its attempt back; only stalls count, and no job can stall more than KILLS times.
      await backend.add(Array.from({ length: JOBS }, (_, i) => newJob({ i }, { queue: 'crash', attempts: 1, leaseMs: 1000, removeOnComplete: false })));
      const live = Array.from({ length: WORKERS }, spawnWorker);
      await waitFor('the workers to start', () => live.every((c) => c.ready), 30_000, 20);

      let kills = 0;
      while (kills < KILLS) {
        await waitFor('some progress between kills', () => dones.size >= (kills + 1) * (JOBS / (KILLS + 3)), 30_000, 20);
        // A live worker with a handler running right now: the kill lands mid-job.
        const victim = await waitFor(
          'a worker with a job in flight',
          () => children.find((c) => c.ready && c.process.exitCode === null && c.process.signalCode === null && c.inFlight.size > 0),
          10_000,
          1,
        );
        victim!.process.kill('SIGKILL');
        kills++;
        spawnWorker();
      }
      const counts = async () => backend.getCounts('crash');
      await waitFor('every job to complete', async () => (await counts()).completed === JOBS, 45_000, 100);
      expect(await counts()).toEqual({ waiting: 0, delayed: 0, active: 0, completed: JOBS, failed: 0, cancelled: 0 });

      const ranTwice = [...starts.values()].filter((n) => n > 1).length;
      const stalled = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${schema}.queue_jobs WHERE stalls > 0`,
      );
      console.log(
        `crash test: ${JOBS} jobs, ${kills} workers SIGKILLed mid-job, ` +
          `${ranTwice} jobs started more than once, ${stalled.rows[0]!.n} completed after stalling`,
      );
      // Every job ran; those that ran again are few (the in-flight and unwritten work of a killed process).
      expect(starts.size).toBe(JOBS);
      expect(ranTwice).toBeGreaterThan(0);
      expect(ranTwice).toBeLessThan(KILLS * 60);
    } finally {
      await db.close();
    }
  }, 120_000);
});

/** The SQL runner on the Postgres job store of `schema`, as the module builds it. */
async function openSqlRunner(db: Parameters<typeof openPostgresJobStore>[0], schema: string): Promise<JobStoreBackend> {
  const { store, wakeup } = await openPostgresJobStore(db, schema, { durableEnqueue: true });
  return new JobStoreBackend('postgres', store, wakeup, `Postgres queue (schema "${schema}")`);
}
