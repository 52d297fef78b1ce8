import pg from 'pg';
import type { SqlDatabase } from '../../lib/core/connections/sql-client.js';
import { PgPoolDatabase } from '../../lib/core/connections/pg-pool.database.js';
import { PgliteDatabase } from '../../lib/core/connections/pglite.database.js';
import { quoteIdentifier } from '../../lib/core/config/identifiers.js';
import type { JobContext } from '../../lib/queue/job.interface.js';
import type { JobEvent, NewJob, QueueWorker, WorkerSpec } from '../../lib/queue/queue-backend.interface.js';
import { openPostgresJobStore } from '../../lib/drivers/postgres/queue/open-postgres-job-store.js';
import { JobStoreBackend } from '../../lib/queue/runner/job-store.backend.js';
import type { JobStoreSettings } from '../../lib/queue/runner/job-store.settings.js';
import { testExecutor, type TestWorkerOptions } from '../support/test-executor.js';
import { queueSql, type QueueSql } from '../../lib/drivers/postgres/queue/postgres-queue.sql.js';
import { queueChannel } from '../../lib/drivers/postgres/queue/postgres-queue.channel.js';
import { JobLeaseExpiredError } from '../../lib/errors/job-lease-expired.error.js';
import { BALLAST_LOCK_CLASS } from '../../lib/core/migrations/migrator.js';
import { dropSchemaOnServer } from '../support/backends.js';
import { sharedPglite } from '../support/shared-pglite.js';
import { TEST_DATABASE_URL } from '../support/test-env.js';
import { uniqueSchema } from '../support/unique-name.js';

/** The two databases the Postgres runner runs on: a server, and PGlite in-process. */
export type PostgresFlavor = 'postgres' | 'pglite';

/**
 * Tests poll faster than production and reap and prune on short intervals, so conditions that
 * depend on them are reached in a fraction of a second; each test still waits on the condition.
 */
export const FAST_SETTINGS: Partial<JobStoreSettings> = {
  pollIntervalMs: 100,
  reapIntervalMs: 100,
  pruneIntervalMs: 60_000,
};

/** The runner's tuning, and the store's one setting. */
export type HarnessSettings = Partial<JobStoreSettings> & { durableEnqueue?: boolean };

export interface QueueHarness {
  flavor: PostgresFlavor;
  schema: string;
  db: SqlDatabase;
  backend: JobStoreBackend;
  sql: QueueSql;
  /** Another backend on the same schema with its own connections (a second process, on a server). */
  openPeer(settings?: HarnessSettings): Promise<JobStoreBackend>;
  /** The jobs table, schema-qualified and quoted. */
  table: string;
  /** Runs the reaper's statement once for `queue` with `maxStalls`; resolves to the jobs it took back. */
  reap(queue: string, maxStalls: number): Promise<number>;
  /** Rows of the jobs table (as `RowView`), by id, for assertions on what the statements wrote. */
  rows(where?: string, params?: unknown[]): Promise<RowView[]>;
  /** Starts a worker on `backend` (the harness's own by default); `close()` closes it first. */
  start(spec: WorkerSpec, backend?: JobStoreBackend): Promise<QueueWorker>;
  /** Closes the workers started by `start`, then the backends and connections, and drops the schema. */
  close(): Promise<void>;
}

/** A backend on a fresh schema: its own pool on the server, or the file's shared PGlite. */
export async function openHarness(flavor: PostgresFlavor, label: string, settings: HarnessSettings = {}): Promise<QueueHarness> {
  const schema = uniqueSchema(label);
  const opened: Array<{ backend: JobStoreBackend; db: SqlDatabase }> = [];
  const openDb = async (): Promise<SqlDatabase> =>
    flavor === 'postgres'
      ? new PgPoolDatabase(new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 }), true)
      : new PgliteDatabase(await sharedPglite(), false);
  const open = async (extra: HarnessSettings) => {
    const db = await openDb();
    const { durableEnqueue = true, ...tuning } = { ...FAST_SETTINGS, ...settings, ...extra };
    const { store, wakeup } = await openPostgresJobStore(db, schema, { durableEnqueue });
    const backend = new JobStoreBackend('postgres', store, wakeup, `Postgres queue (schema "${schema}")`, tuning);
    opened.push({ backend, db });
    return { backend, db };
  };
  const { backend, db } = await open({});
  const workers: QueueWorker[] = [];
  const table = `${quoteIdentifier(schema)}.queue_jobs`;
  return {
    flavor,
    schema,
    db,
    backend,
    sql: queueSql(quoteIdentifier(schema)),
    openPeer: async (extra = {}) => (await open(extra)).backend,
    table,
    reap: async (queue, maxStalls) => {
      const params = [BALLAST_LOCK_CLASS, `test-reap:${schema}`, queue, 100, JobLeaseExpiredError.describe(maxStalls), queueChannel(schema), maxStalls];
      const { rows } = await db.query<{ reaped: string }>(queueSql(quoteIdentifier(schema)).reap, params);
      return (JSON.parse(rows[0]!.reaped) as unknown[]).length;
    },
    rows: async (where = 'true', params: unknown[] = []) =>
      (
        await db.query<RowView>(
          `SELECT id::text AS id, job_key, name, state, priority, attempts_made, max_attempts, lock_token::text AS token,
                  (extract(epoch FROM locked_until - now()) * 1000)::float8 AS lease_left_ms, keep_count,
                  purge_at IS NOT NULL AS has_purge_at, result::text AS result, error_message, error_stack
           FROM ${table} WHERE ${where} ORDER BY id`,
          params,
        )
      ).rows,
    start: async (spec, on = backend) => {
      const worker = await on.startWorker(spec);
      workers.push(worker);
      return worker;
    },
    close: async () => {
      for (const worker of workers.splice(0)) await worker.close();
      for (const { backend: b } of opened) await b.close();
      if (flavor === 'pglite') await db.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
      for (const { db: d } of opened) await d.close();
      if (flavor === 'postgres') await dropSchemaOnServer(schema);
    },
  };
}

/** A jobs-table row as tests read it. */
export interface RowView {
  id: string;
  job_key: string | null;
  name: string;
  state: string;
  priority: number;
  attempts_made: number;
  max_attempts: number;
  token: string | null;
  /** Ms until the lease runs out (negative once it has), null without a lease. */
  lease_left_ms: number | null;
  keep_count: number | null;
  has_purge_at: boolean;
  result: string | null;
  error_message: string | null;
  error_stack: string | null;
}

/** A job as `QueueService` would hand it to the backend, with test-friendly defaults. */
/** Parameters of the claim statement for `limit` jobs of `queue`, as a worker with room to start them all would send. */
export function claimArgs(queue: string, limit: number, startNow = limit): unknown[] {
  return [queue, limit, startNow];
}

export function newJob(data: unknown = {}, overrides: Partial<NewJob> = {}): NewJob {
  return {
    queue: 'q',
    name: 'work',
    data,
    runAt: undefined,
    priority: 0,
    attempts: 1,
    backoff: { type: 'fixed', delay: 0, jitter: 0 },
    jobId: undefined,
    dedupe: null,
    leaseMs: 30_000,
    runTimeoutMs: null,
    removeOnComplete: true,
    removeOnFail: false,
    concurrency: null,
    ...overrides,
  };
}

/** What a recording worker saw: runs per job id, the most jobs in flight at once, and every event. */
export interface Recorder {
  runs: Map<string, number>;
  order: string[];
  events: JobEvent[];
  inFlight: number;
  maxInFlight: number;
  eventsOf(type: JobEvent['type']): JobEvent[];
}

export function recorder(): Recorder {
  const r: Recorder = {
    runs: new Map(),
    order: [],
    events: [],
    inFlight: 0,
    maxInFlight: 0,
    eventsOf: (type) => r.events.filter((e) => e.type === type),
  };
  return r;
}

/**
 * A worker spec whose handlers count their runs in `rec` and then call `body` (a no-op by default).
 * `name` defaults to the job name `newJob` uses.
 */
export function recordingSpec(
  rec: Recorder,
  body: (data: unknown, context: JobContext) => Promise<unknown> | unknown = () => undefined,
  overrides: TestWorkerOptions & { names?: string[] } = {},
): WorkerSpec {
  const names = overrides.names ?? ['work'];
  const handle = async (data: unknown, context: JobContext): Promise<unknown> => {
    rec.runs.set(context.id, (rec.runs.get(context.id) ?? 0) + 1);
    rec.order.push(context.id);
    rec.inFlight++;
    rec.maxInFlight = Math.max(rec.maxInFlight, rec.inFlight);
    try {
      return await body(data, context);
    } finally {
      rec.inFlight--;
    }
  };
  const handlers = Object.fromEntries(names.map((name) => [name, handle]));
  const { queue = 'q', concurrency = 5, shutdownTimeoutMs = 2000, leaseMs } = overrides;
  return {
    executor: testExecutor(queue, handlers, leaseMs === undefined ? { concurrency } : { concurrency, leaseMs }),
    shutdownTimeoutMs,
    onEvent: (event) => rec.events.push(event),
  };
}

/** A promise with its resolver, for handlers that wait on the test. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves when `signal` aborts, with its reason. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}
