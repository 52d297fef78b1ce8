/**
 * `@Job(name, { rateLimit })`: each attempt first takes one unit of a named rate-limit policy, the
 * same policy and the same stored counters as `@RateLimit(policy)` on routes, so routes and jobs
 * share one budget. An attempt that finds the budget spent waits until a unit fits and runs then,
 * without using an attempt.
 */
export interface JobRateLimitOptions {
  /** A policy of `rateLimit.policies`; an unknown name fails the boot. */
  policy: string;
  /**
   * The budget's key for a job, from its data, e.g. `(data: Charge) => data.accountId`; a key is
   * checked like any rate-limit key (a bad one fails the attempt).
   * @default the job's name (one budget for every job of the name)
   */
  key?: (data: never) => string;
}
