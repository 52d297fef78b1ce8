import type { JobBackoff } from './retry-delay.js';

/** A claim row as the claim statement returns it. */
export interface ClaimRow {
  id: string;
  public_id: string;
  name: string;
  data: string;
  attempts_made: number;
  max_attempts: number;
  timeout_ms: number;
  backoff_type: 'fixed' | 'exponential';
  backoff_delay: number;
  backoff_jitter: number;
  token: string;
  drop_result: boolean;
}

/** A job this process holds under a lease: buffered, running, or finished and waiting for its write. */
export interface ClaimedJob {
  /** The row id (bigint as text), for SQL. */
  rowId: string;
  /** The id users see: their jobId, or the row id. */
  id: string;
  name: string;
  /** JSON text of the data, parsed when the job starts. */
  json: string;
  /** This attempt, 1-based. */
  attempt: number;
  maxAttempts: number;
  timeoutMs: number;
  backoff: JobBackoff;
  /** The claim's token; every write of this worker about the job must match it. */
  token: string;
  /** The job is removed on completion, so its result is not sent. */
  dropResult: boolean;
  /**
   * Its handler started in this worker. The claim told the store so for the jobs that started at
   * once; for one that waited in the buffer, the next lease renewal does (a stall counts only then).
   */
  started: boolean;
  /** Client time at which the lease should next be renewed. */
  renewAt: number;
  /** Fires on shutdown past the grace period or on lease loss. */
  controller: AbortController;
  /**
   * The job is no longer this worker's (handed back, or its lease was lost): whatever its handler
   * does now is not written.
   */
  released: boolean;
}

export function toClaimedJob(row: ClaimRow, now: number): ClaimedJob {
  return {
    rowId: row.id,
    id: row.public_id,
    name: row.name,
    json: row.data,
    attempt: row.attempts_made,
    maxAttempts: row.max_attempts,
    timeoutMs: row.timeout_ms,
    backoff: { type: row.backoff_type, delay: row.backoff_delay, jitter: row.backoff_jitter },
    token: row.token,
    dropResult: row.drop_result,
    started: false,
    renewAt: now + row.timeout_ms / 3,
    controller: new AbortController(),
    released: false,
  };
}
