import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { PGlite } from '@electric-sql/pglite';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { BallastModule, Job, QueueService, type BallastModuleOptions, type JobContext, type ProviderName } from '../../lib/index.js';
import { probe } from './queue-bench.probe.js';

/** One system under test, driven the same way by the bench. */
export interface QueueContender {
  name: string;
  /** Enqueues one job into the drain queue (workers are not running yet). */
  addOne(i: number): Promise<unknown>;
  /** Enqueues `count` jobs in one call into the bulk queue. */
  addBulk(count: number): Promise<unknown>;
  /** Untimed set-up of the workers (building the Nest module), so the drain times work, not boot. */
  prepareWorkers(): Promise<void>;
  /** Starts `concurrency` workers on the drain and pickup queues; resolves once they are started. */
  startWorkers(concurrency: number): Promise<void>;
  /** Resolves once the backend reports no waiting or active job in the drain queue. */
  settled(): Promise<void>;
  /** Enqueues one job into the pickup queue, served by the already idle workers. */
  addPickup(i: number): Promise<unknown>;
  close(): Promise<void>;
}

export const DRAIN_QUEUE = 'bench';
export const BULK_QUEUE = 'bench-bulk';
export const PICKUP_QUEUE = 'bench-pickup';
export const PAYLOAD = { to: 'user@example.com', template: 'welcome', n: 0 };

/** The bench's no-op handlers: report the run and return. */
@Injectable()
class NoopJobs {
  @Job('noop', { queue: DRAIN_QUEUE, concurrency: 10 })
  drain(_data: unknown, context: JobContext): void {
    probe.ran(context.id);
  }

  @Job('noop', { queue: PICKUP_QUEUE, concurrency: 10 })
  pickup(_data: unknown, context: JobContext): void {
    probe.ran(`pickup:${context.id}`);
  }
}

@Module({ providers: [NoopJobs] })
class NoopJobsModule {}

async function boot(options: BallastModuleOptions, withHandlers: boolean): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [BallastModule.forRoot(options), ...(withHandlers ? [NoopJobsModule] : [])],
  }).compile();
  moduleRef.useLogger(false);
  return moduleRef;
}

/**
 * Ballast on `provider`: an enqueue-only app for the enqueue phases, then an app with the `@Job`
 * handlers whose workers start at `init()` (timed from there).
 */
export async function ballast(name: string, provider: ProviderName, connection: BallastModuleOptions): Promise<QueueContender> {
  const options: BallastModuleOptions = { ...connection, cache: { provider }, queue: { ...connection.queue, provider } };
  const producerRef = await boot({ ...options, queue: { ...options.queue, workers: false } }, false);
  await producerRef.init();
  const producer = producerRef.get(QueueService);
  // The backend opens (connects, migrates) on first use; do that before anything is timed.
  await producer.getCounts(DRAIN_QUEUE);
  let workerRef: TestingModule | undefined;
  return {
    name,
    addOne: (i) => producer.add(DRAIN_QUEUE, 'noop', { ...PAYLOAD, n: i }),
    addBulk: (count) => producer.addBulk(Array.from({ length: count }, (_, i) => ({ queue: BULK_QUEUE, name: 'noop', data: { ...PAYLOAD, n: i } }))),
    prepareWorkers: async () => {
      workerRef = await boot(options, true);
    },
    // Workers start in onApplicationBootstrap, i.e. inside init().
    startWorkers: async () => {
      await workerRef!.init();
    },
    settled: async () => {
      for (;;) {
        const counts = await producer.getCounts(DRAIN_QUEUE);
        if (counts.waiting + counts.active + counts.delayed === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    addPickup: (i) => producer.add(PICKUP_QUEUE, 'noop', { ...PAYLOAD, n: i }),
    close: async () => {
      await workerRef?.close();
      await producerRef.close();
    },
  };
}

/** BullMQ used directly, on the same Redis, with the options Ballast's defaults map to (remove on complete). */
export async function rawBullmq(url: string, prefix: string): Promise<QueueContender> {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  const queues = new Map<string, Queue>();
  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: client, prefix });
      queues.set(name, q);
    }
    return q;
  };
  await queue(DRAIN_QUEUE).getJobCounts('waiting');
  const workers: Worker[] = [];
  const connections: Redis[] = [];
  const opts = { removeOnComplete: true, removeOnFail: false, attempts: 1 };
  return {
    name: 'bullmq-raw',
    prepareWorkers: async () => undefined,
    addOne: (i) => queue(DRAIN_QUEUE).add('noop', { ...PAYLOAD, n: i }, opts),
    addBulk: (count) => queue(BULK_QUEUE).addBulk(Array.from({ length: count }, (_, i) => ({ name: 'noop', data: { ...PAYLOAD, n: i }, opts }))),
    startWorkers: async (concurrency) => {
      for (const [name, tag] of [[DRAIN_QUEUE, ''], [PICKUP_QUEUE, 'pickup:']] as const) {
        const connection = new Redis(url, { maxRetriesPerRequest: null });
        connections.push(connection);
        const worker = new Worker(name, async (job) => probe.ran(`${tag}${job.id}`), {
          connection,
          prefix,
          concurrency,
        });
        workers.push(worker);
        await worker.waitUntilReady();
      }
    },
    settled: async () => {
      for (;;) {
        const counts = await queue(DRAIN_QUEUE).getJobCounts('waiting', 'prioritized', 'active', 'delayed');
        if (Object.values(counts).every((n) => n === 0)) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    addPickup: (i) => queue(PICKUP_QUEUE).add('noop', { ...PAYLOAD, n: i }, opts),
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
      for (const connection of connections) connection.disconnect();
      client.disconnect();
    },
  };
}

/**
 * The seed design: claim one row per statement (`LIMIT 1 FOR UPDATE SKIP LOCKED` inside an UPDATE),
 * run it, delete it; `concurrency` such loops on a pool of that many connections. An idle loop
 * polls every `idlePollMs`.
 */
export async function naiveLoop(url: string, schema: string, idlePollMs = 50): Promise<QueueContender> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const table = `"${schema}".naive_jobs`;
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await pool.query(`CREATE TABLE ${table} (
    id bigserial PRIMARY KEY, queue text NOT NULL, name text NOT NULL, data jsonb NOT NULL,
    state text NOT NULL DEFAULT 'waiting', priority int NOT NULL DEFAULT 0, run_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now())`);
  await pool.query(`CREATE INDEX ON ${table} (queue, priority, id) WHERE state = 'waiting'`);
  let stopped = false;
  const loops: Promise<void>[] = [];
  // The loops serve the drain queue, then (once it is empty) the pickup queue: one queue per claim,
  // as the seed design had, so its index order serves the ORDER BY.
  let serving = DRAIN_QUEUE;
  const claim = `WITH next_job AS (
      SELECT id FROM ${table} WHERE queue = $1 AND state = 'waiting' AND run_at <= now()
      ORDER BY priority, id LIMIT 1 FOR UPDATE SKIP LOCKED)
    UPDATE ${table} j SET state = 'active' FROM next_job WHERE j.id = next_job.id RETURNING j.*`;
  const loop = async () => {
    while (!stopped) {
      const queue = serving;
      const { rows } = await pool.query<{ id: string }>(claim, [queue]);
      const row = rows[0];
      if (!row) {
        await new Promise((resolve) => setTimeout(resolve, idlePollMs));
        continue;
      }
      probe.ran(queue === PICKUP_QUEUE ? `pickup:${row.id}` : row.id);
      await pool.query(`DELETE FROM ${table} WHERE id = $1`, [row.id]);
    }
  };
  const insert = (queue: string, data: unknown) => pool.query(`INSERT INTO ${table} (queue, name, data) VALUES ($1, 'noop', $2) RETURNING id`, [queue, JSON.stringify(data)]);
  return {
    name: 'naive-pg',
    prepareWorkers: async () => undefined,
    addOne: (i) => insert(DRAIN_QUEUE, { ...PAYLOAD, n: i }),
    addBulk: (count) =>
      pool.query(`INSERT INTO ${table} (queue, name, data) SELECT $1, 'noop', d FROM unnest($2::jsonb[]) AS d RETURNING id`, [
        BULK_QUEUE,
        Array.from({ length: count }, (_, i) => JSON.stringify({ ...PAYLOAD, n: i })),
      ]),
    startWorkers: async (concurrency) => {
      for (let i = 0; i < concurrency; i++) loops.push(loop());
    },
    settled: async () => {
      for (;;) {
        const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE queue = $1`, [DRAIN_QUEUE]);
        if (rows[0]!.n === '0') {
          serving = PICKUP_QUEUE;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    addPickup: (i) => insert(PICKUP_QUEUE, { ...PAYLOAD, n: i }),
    close: async () => {
      stopped = true;
      await Promise.all(loops);
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

export async function openPglite(): Promise<PGlite> {
  return PGlite.create();
}
