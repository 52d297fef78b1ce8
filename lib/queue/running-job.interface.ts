import type { JobContext, JobProgress } from './job.interface.js';

/**
 * One attempt of one job as a runner holds it: the handler's `JobContext`, plus the runner's way to
 * abort it. Runners get one from `JobExecutor.startRun` and hand it back to `execute`.
 */
export interface RunningJob extends JobContext {
  /** Aborts the handler's signal with `reason`; a later reason does not replace the first. */
  abort(reason: Error): void;
  /** Why the run was aborted, if it was. */
  readonly abortReason: Error | undefined;
}

/**
 * Stores a running job's progress where the job lives. Called at most once at a time per job (the
 * run coalesces the rest) and never rejects: a store that fails is the runner's to log, and a
 * handler that reports progress must not fail because of it.
 */
export type JobProgressWriter = (run: RunningJob, value: JobProgress, json: string) => Promise<void>;
