import { Logger } from '@nestjs/common';
import { OutageLog } from '../../../common/outage-log.js';
import { settlesWithin } from '../../../common/settles-within.js';
import type { SqlClient, SqlDatabase, SqlResult } from '../../../core/connections/sql-client.js';
import type { JobCounts, JobInfo, JobState } from '../../../queue/job.interface.js';
import type { NewJob, QueueBackend, QueueWorker, WorkerSpec } from '../../../queue/queue-backend.interface.js';
import { queueChannel } from './postgres-queue.channel.js';
import { publicIdParams } from './postgres-queue.job-id.js';
import { PostgresQueueEnqueuer } from '../../../queue/runner/job-store.enqueuer.js';
import { PostgresQueuePruner } from '../../../queue/runner/job-store.pruner.js';
import { newJobParams, newJobsJson } from './postgres-queue.new-job.js';
import { postgresQueueSettings, type PostgresQueueSettings } from '../../../queue/runner/job-store.settings.js';
import { queueSql, type QueueSql } from './postgres-queue.sql.js';
import { PostgresQueueWorker } from '../../../queue/runner/job-store.worker.js';

/** How long closing waits for enqueues in flight (their callers have their own deadlines). */
const ENQUEUE_DRAIN_MS = 1000;
/** Failed jobs moved per statement by `retryAllFailed`. */
const RETRY_BATCH = 1000;

interface JobRow {
  id: string;
  queue: string;
  name: string;
  data: string;
  state: JobState;
  priority: number;
  attempts_made: number;
  max_attempts: number;
  created_at: number;
  run_at: number;
  finished_at: number | null;
  result: string | null;
  error_message: string | null;
  error_stack: string | null;
}

/**
 * `QueueBackend` on Postgres (a server or PGlite, through `SqlDatabase`): our own
 * `FOR UPDATE SKIP LOCKED` runner. Enqueue is one statement however many jobs; workers claim and
 * finish jobs in batches, wake on LISTEN/NOTIFY and poll as a fallback. The tables must exist
 * (`queueMigrations`); `openPostgresQueueBackend` migrates and builds one.
 */
export class PostgresQueueBackend implements QueueBackend {
  readonly provider = 'postgres' as const;
  private readonly sql: QueueSql;
  private readonly channel: string;
  private readonly settings: PostgresQueueSettings;
  private readonly logger = new Logger('Ballast');
  /** One outage log for every background statement of this backend: an outage is two lines, not one per retry. */
  private readonly outage: OutageLog;
  private readonly workers = new Set<PostgresQueueWorker>();
  private readonly pruner: PostgresQueuePruner;
  private readonly enqueuer: PostgresQueueEnqueuer;

  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
    quotedSchema: string,
    settings: Partial<PostgresQueueSettings> = {},
  ) {
    this.sql = queueSql(quotedSchema);
    this.channel = queueChannel(schema);
    this.settings = postgresQueueSettings(settings);
    this.outage = new OutageLog(this.logger, `Postgres queue (schema "${schema}")`);
    this.pruner = new PostgresQueuePruner(db, this.sql, schema, this.settings, this.outage);
    this.enqueuer = new PostgresQueueEnqueuer(
      (jobs) => this.insert(jobs),
      this.settings.maxConcurrentEnqueues,
      this.settings.maxEnqueueBatch,
    );
  }

  add(jobs: readonly NewJob[], client?: SqlClient): Promise<string[]> {
    if (jobs.length === 0) return Promise.resolve([]);
    // A caller's transaction is theirs alone: its jobs never share a statement with anyone's.
    return client ? this.insert(jobs, client) : this.enqueuer.add(jobs);
  }

  /** One INSERT of `jobs`; ids in input order. */
  private async insert(jobs: readonly NewJob[], client?: SqlClient): Promise<string[]> {
    // The caller's transaction keeps its own durability; ours is a setting.
    const durable = client !== undefined || this.settings.durableEnqueue;
    // Our own statements are prepared on the pool's connections; a caller's client runs them plain.
    const run = <R extends object>(text: string, params: unknown[]) =>
      client ? client.query<R>(text, params) : this.db.queryPrepared<R>(text, params);
    if (jobs.length === 1) {
      const job = jobs[0]!;
      const { rows } = await run<{ id: string }>(durable ? this.sql.addOne : this.sql.addOneAsync, [...newJobParams(job), this.channel]);
      return [job.jobId ?? rows[0]!.id];
    }
    const { rows } = await run<{ ids: string[] }>(durable ? this.sql.add : this.sql.addAsync, [newJobsJson(jobs), this.channel]);
    const ids = rows[0]!.ids;
    // A job with a jobId is known by it, whether this call created it or found it.
    return jobs.map((job, i) => job.jobId ?? ids[i]!);
  }

  async getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    const { rows } = await this.db.queryPrepared<JobRow>(this.sql.getJob, [queue, ...publicIdParams(id)]);
    const row = rows[0];
    return row ? toJobInfo(row) : undefined;
  }

  async getCounts(queue: string): Promise<JobCounts> {
    const { rows } = await this.db.queryPrepared<JobCounts>(this.sql.counts, [queue]);
    return rows[0]!;
  }

  async retry(queue: string, id: string): Promise<boolean> {
    const { rows } = await this.db.query(this.sql.retry, [queue, ...publicIdParams(id), this.channel]);
    return rows.length > 0;
  }

  /** Retries the jobs failed when the call started; jobs that fail again while it runs stay failed. */
  async retryAllFailed(queue: string): Promise<number> {
    let total = 0;
    let cutoff: string | null = null;
    for (;;) {
      const result: SqlResult<{ moved: number; cutoff: string }> = await this.db.query(this.sql.retryFailedBatch, [queue, RETRY_BATCH, this.channel, cutoff]);
      const row = result.rows[0];
      const moved = row?.moved ?? 0;
      cutoff = row?.cutoff ?? cutoff;
      total += moved;
      if (moved < RETRY_BATCH) return total;
    }
  }

  async remove(queue: string, id: string): Promise<boolean> {
    const { rows } = await this.db.query(this.sql.remove, [queue, ...publicIdParams(id)]);
    return rows.length > 0;
  }

  async pause(queue: string): Promise<void> {
    await this.db.query(this.sql.pause, [queue, this.channel]);
  }

  async resume(queue: string): Promise<void> {
    await this.db.query(this.sql.resume, [queue, this.channel]);
  }

  async startWorker(spec: WorkerSpec): Promise<QueueWorker> {
    const worker = new PostgresQueueWorker(
      { db: this.db, sql: this.sql, schema: this.schema, channel: this.channel, settings: this.settings, logger: this.logger, outage: this.outage },
      spec,
      (closed) => this.workers.delete(closed),
    );
    await worker.start();
    this.workers.add(worker);
    this.pruner.start();
    return worker;
  }

  /** Stops what the backend runs (workers, the pruner) and waits for enqueues in flight; the connection belongs to the registry. */
  async close(): Promise<void> {
    // Each worker bounds its own shutdown; the rest waits on the database at most a moment more.
    await Promise.all([...this.workers].map((worker) => worker.close()));
    await this.pruner.stop();
    await settlesWithin(this.enqueuer.drain(), ENQUEUE_DRAIN_MS);
  }

  /** Deletes finished jobs past their retention now, rather than on the next timer tick. */
  prune(): Promise<{ byAge: number; byCount: number }> {
    return this.pruner.prune();
  }
}

function toJobInfo(row: JobRow): JobInfo {
  const info: JobInfo = {
    id: row.id,
    queue: row.queue,
    name: row.name,
    data: JSON.parse(row.data) as unknown,
    state: row.state,
    priority: row.priority,
    attemptsMade: row.attempts_made,
    maxAttempts: row.max_attempts,
    createdAt: new Date(row.created_at),
    runAt: new Date(row.run_at),
  };
  if (row.finished_at !== null) info.finishedAt = new Date(row.finished_at);
  if (row.result !== null) info.result = JSON.parse(row.result) as unknown;
  if (row.error_message !== null) info.error = row.error_stack === null ? { message: row.error_message } : { message: row.error_message, stack: row.error_stack };
  return info;
}
