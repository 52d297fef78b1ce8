import type { JobInfo, JobState } from './job.interface.js';

/** Most jobs one `getJobs` page holds. */
export const MAX_JOB_PAGE = 1000;

/** Which page of `QueueService.getJobs` to read. */
export interface JobListOptions {
  /** The state to list. `waiting` includes delayed jobs whose time has come, as `getCounts` does. */
  state: JobState;
  /**
   * Jobs per page, 1 to 1000.
   * @default 50
   */
  limit?: number;
  /** The `next` of the previous page; absent for the first page. */
  cursor?: string;
}

/**
 * One page of jobs. Finished jobs (`completed`, `failed`, `cancelled`) come newest first; `waiting` in the order
 * they will run (priority, then the time they became ready), `delayed` and `active` by run time.
 */
export interface JobPage<Data = unknown, Result = unknown> {
  jobs: Array<JobInfo<Data, Result>>;
  /** Pass as `cursor` for the next page; absent on the last page. */
  next?: string;
}

/**
 * A checked `getJobs` request as a backend reads it (internal: made by `QueueService`). `after`
 * holds the sort key of the last job of the previous page, as the backend wrote it with `cursor`
 * (strings, in the backend's own terms), or undefined for the first page.
 */
export interface JobListQuery {
  state: JobState;
  limit: number;
  after: readonly string[] | undefined;
  /** The cursor of the page that follows the job whose sort key is `key`. */
  cursor(key: readonly string[]): string;
  /** The error for an `after` the backend cannot read (well-formed, not one it wrote). */
  invalidCursor(): Error;
}
