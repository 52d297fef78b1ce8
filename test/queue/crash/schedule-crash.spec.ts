import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgPoolDatabase } from '../../../lib/core/connections/pg-pool.database.js';
import { openPostgresJobStore } from '../../../lib/drivers/postgres/queue/open-postgres-job-store.js';
import { moduleJobDefaults } from '../../../lib/queue/job-options.validation.js';
import { toNewSchedule } from '../../../lib/queue/schedule.validation.js';
import { dropSchemaOnServer } from '../../support/backends.js';
import { TEST_DATABASE_URL } from '../../support/test-env.js';
import { uniqueSchema } from '../../support/unique-name.js';
import { waitFor } from '../../support/wait-for.js';

const EVERY_MS = 500;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/**
 * Schedules under crashes: three replica processes run one 500 ms schedule on Postgres, and one of
 * them is SIGKILLed mid-run (possibly inside its scheduler's statement). Counted in the store, not
 * in the handlers (a job of a killed replica may run again, as any job may): every tick from the
 * first to the last is enqueued exactly once.
 */
describe('Postgres schedules under replica crashes', () => {
  const schema = uniqueSchema('schedcrash');
  const children: ChildProcess[] = [];
  const ticks = new Set<number>();

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await dropSchemaOnServer(schema);
  });

  const spawnReplica = (): { process: ChildProcess; ready: () => boolean } => {
    let ready = false;
    const child = spawn(process.execPath, ['--import', here('./register-ts.mjs'), here('./schedule-crash.worker.ts')], {
      env: { ...process.env, CRASH_SCHEMA: schema, CRASH_DATABASE_URL: TEST_DATABASE_URL },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [kind, at] = line.split(' ');
      if (kind === 'ready') ready = true;
      else if (kind === 'tick') ticks.add(Number(at));
    });
    children.push(child);
    return { process: child, ready: () => ready };
  };

  it('enqueues every tick exactly once while a replica is killed mid-run', async () => {
    const db = new PgPoolDatabase(new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 }), true);
    try {
      const { store } = await openPostgresJobStore(db, schema, { durableEnqueue: true });
      // Kept once run, so the store holds one row per enqueued tick.
      await store.upsertSchedules([
        toNewSchedule('beat', 'beat', 'beat', { every: EVERY_MS }, { removeOnComplete: false }, moduleJobDefaults(30_000), 'api', Date.now()),
      ]);
      const replicas = [spawnReplica(), spawnReplica(), spawnReplica()];
      await waitFor('the replicas to start', () => replicas.every((r) => r.ready()), 30_000, 20);
      await waitFor('8 ticks', () => ticks.size >= 8, 30_000, 20);
      replicas[1]!.process.kill('SIGKILL');
      const killedAt = ticks.size;
      await waitFor('12 more ticks after the kill', () => ticks.size >= killedAt + 12, 30_000, 20);
      for (const replica of replicas) replica.process.kill('SIGKILL');

      const { rows } = await db.query<{ tick: number; jobs: number }>(
        `SELECT (extract(epoch FROM scheduled_for) * 1000)::float8 AS tick, count(*)::int AS jobs
         FROM "${schema}".queue_jobs WHERE queue = 'beat' GROUP BY scheduled_for ORDER BY scheduled_for`,
      );
      expect(rows.length).toBeGreaterThanOrEqual(20);
      expect(rows.filter((row) => row.jobs !== 1)).toEqual([]);
      // No tick skipped between the first and the last.
      expect(rows[rows.length - 1]!.tick - rows[0]!.tick).toBe((rows.length - 1) * EVERY_MS);
      console.log(`schedule crash: ${rows.length} ticks enqueued once each across 3 replicas, one SIGKILLed after ${killedAt}`);
    } finally {
      await db.close();
    }
  }, 120_000);
});
