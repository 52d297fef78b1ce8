import type { SerializedJob } from '../../../queue/job-store.interface.js';
import type { NewJob } from '../../../queue/new-job.interface.js';
import { retentionColumns } from './postgres-queue.retention.js';

/** One job as the scalar parameters $1..$17 of `addOne`. */
export function newJobParams(job: SerializedJob): unknown[] {
  const completed = retentionColumns(job.removeOnComplete);
  const failed = retentionColumns(job.removeOnFail);
  return [
    job.queue,
    job.name,
    job.json,
    job.runAt === undefined ? null : new Date(job.runAt).toISOString(),
    job.priority,
    job.attempts,
    job.backoff.type,
    job.backoff.delay,
    job.backoff.jitter,
    job.jobId ?? null,
    job.leaseMs,
    completed.count,
    completed.ageMs,
    failed.count,
    failed.ageMs,
    job.runTimeoutMs,
    job.concurrency?.key ?? '',
  ];
}

/**
 * Jobs as the JSON array `add` reads with `json_to_recordset`, one object per job keyed by column.
 * Built as text around each job's JSON data, which is already serialized and valid; the data goes
 * in as a JSON string (`add` reads it as text and casts it to jsonb), so it is never parsed here.
 * Null fields are left out (absent reads as null).
 */
export function newJobsJson(jobs: readonly SerializedJob[]): string {
  return `[${jobs.map(newJobJson).join(',')}]`;
}

/** One job as a JSON object keyed by column, as `newJobsJson` writes each (a schedule stores its tick job so). */
export function newJobJson(job: SerializedJob): string {
  const completed = retentionColumns(job.removeOnComplete);
  const failed = retentionColumns(job.removeOnFail);
  let text =
    `{"queue":${JSON.stringify(job.queue)},"name":${JSON.stringify(job.name)},"data":${JSON.stringify(job.json)}` +
    `,"priority":${job.priority},"max_attempts":${job.attempts},"backoff_type":${JSON.stringify(job.backoff.type)}` +
    `,"backoff_delay":${job.backoff.delay},"backoff_jitter":${job.backoff.jitter},"timeout_ms":${job.leaseMs}`;
  if (job.runAt !== undefined) text += `,"run_at":"${new Date(job.runAt).toISOString()}"`;
  if (job.jobId !== undefined) text += `,"job_key":${JSON.stringify(job.jobId)}`;
  if (job.runTimeoutMs !== null) text += `,"run_timeout_ms":${job.runTimeoutMs}`;
  if (completed.count !== null) text += `,"keep_completed":${completed.count}`;
  if (completed.ageMs !== null) text += `,"keep_completed_ms":${completed.ageMs}`;
  if (failed.count !== null) text += `,"keep_failed":${failed.count}`;
  if (failed.ageMs !== null) text += `,"keep_failed_ms":${failed.ageMs}`;
  if (job.concurrency !== null) text += `,"concurrency_key":${JSON.stringify(job.concurrency.key)}`;
  return `${text}}`;
}

/**
 * The concurrency keys of `jobs` with their limits, as `ensureGroups` reads them: one per (queue,
 * key), the last job's limit winning. Empty when no job has a key.
 */
export function concurrencyGroups(jobs: readonly NewJob[]): Array<{ queue: string; key: string; limit: number }> {
  const groups = new Map<string, { queue: string; key: string; limit: number }>();
  for (const job of jobs) {
    if (job.concurrency === null) continue;
    groups.set(`${job.queue}\u0000${job.concurrency.key}`, { queue: job.queue, key: job.concurrency.key, limit: job.concurrency.limit });
  }
  return [...groups.values()];
}
