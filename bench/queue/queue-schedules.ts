import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import { BallastModule, Job, QueueService } from '../../lib/index.js';

const QUEUE = 'bench-sched';
const NAME = 'bench-tick';

@Injectable()
class TickJobs {
  @Job(NAME, { queue: QUEUE })
  tick(): void {}
}

@Module({ providers: [TickJobs] })
class TickJobsModule {}

@Module({})
class SchedulesBenchApp {}

/** What the schedules row reports. */
export interface SchedulesResult {
  schedules: number;
  replicas: number;
  /** Tick jobs found (one per schedule when none was lost or doubled). */
  enqueued: number;
  /** Jobs beyond one per schedule. */
  duplicates: number;
  /** From the tick's due time to the start of the statement that enqueued it, ms. */
  lagP50Ms: number;
  lagMaxMs: number;
}

/**
 * The schedules row: `count` cron schedules (one job name, data `{ i }`) all due at the same whole
 * second, with `replicas` app instances (each with a worker, so each runs the scheduler) on one
 * Postgres schema. The queue is paused, so the tick jobs stay to be counted and no handler runs
 * beside the scheduler. Lag is the job's `created_at` (the enqueueing statement's start) minus its
 * `scheduled_for` (the tick).
 */
export async function measureSchedules(databaseUrl: string, schema: string, count: number, replicas: number): Promise<SchedulesResult> {
  const apps = [];
  for (let i = 0; i < replicas; i++) {
    apps.push(
      await NestFactory.createApplicationContext(
        {
          module: SchedulesBenchApp,
          imports: [BallastModule.forRoot({ postgres: { connectionString: databaseUrl, poolSize: 4 }, schema, queue: { provider: 'postgres' } }), TickJobsModule],
        },
        { logger: ['error', 'warn'] },
      ),
    );
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const queue = apps[0]!.get(QueueService);
    await queue.pause(QUEUE);
    // A whole second far enough ahead for every schedule to be written first.
    const due = Math.ceil((Date.now() + 2000 + count * 2) / 1000) * 1000;
    const at = new Date(due);
    const cron = `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
    for (let i = 0; i < count; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, (_, k) =>
          queue.upsertSchedule(`bench-${i + k}`, { queue: QUEUE, name: NAME, cron, data: { i: i + k }, options: { removeOnComplete: false } }),
        ),
      );
    }
    if (Date.now() >= due - 200) throw new Error('the schedules took too long to write; the due second has passed');
    const table = `"${schema}".queue_jobs`;
    const deadline = due + 10_000;
    let found = 0;
    while (Date.now() < deadline) {
      found = (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE name = $1`, [NAME])).rows[0]!.n;
      if (found >= count && Date.now() > due + 2000) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { rows } = await client.query<{ n: number; distinct_n: number; p50: number | null; max: number | null; off_tick: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT data->>'i')::int AS distinct_n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - scheduled_for) * 1000) AS p50,
              max(extract(epoch FROM created_at - scheduled_for) * 1000)::float8 AS max,
              count(*) FILTER (WHERE scheduled_for <> $2::timestamptz)::int AS off_tick
       FROM ${table} WHERE name = $1`,
      [NAME, at.toISOString()],
    );
    const stats = rows[0]!;
    if (stats.off_tick > 0) throw new Error(`${stats.off_tick} tick jobs carry another tick than ${at.toISOString()}`);
    return {
      schedules: count,
      replicas,
      enqueued: stats.n,
      duplicates: stats.n - stats.distinct_n,
      lagP50Ms: Math.round((stats.p50 ?? Number.NaN) * 10) / 10,
      lagMaxMs: Math.round((stats.max ?? Number.NaN) * 10) / 10,
    };
  } finally {
    await client.end();
    for (const app of apps) await app.close();
  }
}
