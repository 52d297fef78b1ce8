import type { Job, JobState as BullmqJobState } from 'bullmq';
import { JobLeaseExpiredError } from '../../errors/job-lease-expired.error.js';
import type { JobInfo, JobProgress, JobState } from '../../queue/job.interface.js';

/** What BullMQ stores as the failure of a job that stalled more than `maxStalledCount` times. */
const BULLMQ_STALLED_REASON = 'job stalled more than allowable limit';

/** BullMQ's states folded into Ballast's five; `undefined` for a job BullMQ no longer knows. */
export function toJobState(state: BullmqJobState | 'unknown'): JobState | undefined {
  switch (state) {
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      return 'waiting';
    case 'delayed':
    case 'active':
    case 'completed':
    case 'failed':
      return state;
    case 'unknown':
      return undefined;
  }
}

/**
 * A BullMQ job as `getJob` reports it. `delayedScore` is the job's score in the delayed set, which
 * holds its next run time for retries too (BullMQ keeps no such field on the job).
 */
export function toJobInfo(queue: string, job: Job, state: JobState, delayedScore: string | null, hasProgress: boolean): JobInfo {
  const info: JobInfo = {
    id: job.id ?? '',
    queue,
    name: job.name,
    data: job.data,
    state,
    priority: job.priority,
    // BullMQ counts finished attempts; Ballast counts the running one too.
    attemptsMade: job.attemptsMade + (state === 'active' ? 1 : 0),
    maxAttempts: job.opts.attempts || 1,
    createdAt: new Date(job.timestamp),
    runAt: new Date(runAt(job, delayedScore)),
  };
  if (job.finishedOn) info.finishedAt = new Date(job.finishedOn);
  if (state === 'completed') info.result = job.returnvalue;
  if (hasProgress) info.progress = job.progress as JobProgress;
  // BullMQ keeps the last failure on a job that later completed; Ballast reports it until then.
  if (job.failedReason && state !== 'completed') {
    // BullMQ's own words for a job that stalled too often say neither how often nor that the
    // handler never threw; Ballast says the same as on Postgres.
    const message = job.failedReason === BULLMQ_STALLED_REASON ? JobLeaseExpiredError.describe(Math.max(0, job.stalledCounter - 1)) : job.failedReason;
    const stack = job.stacktrace?.at(-1);
    info.error = stack === undefined || message !== job.failedReason ? { message } : { message, stack };
  }
  return info;
}

function runAt(job: Job, delayedScore: string | null): number {
  // Delayed-set scores are `runAt * 0x1000 + counter` (the counter keeps FIFO within one ms).
  if (delayedScore !== null) return Math.floor(Number(delayedScore) / 0x1000);
  return job.timestamp + (job.opts.delay ?? 0);
}
