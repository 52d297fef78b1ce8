/**
 * What the queue asks of the app's rate limiter for jobs under `rateLimit`: the module binds it to
 * `RateLimitService` (`ballast.providers.ts`), so jobs and routes share counters without the queue
 * importing the rate-limit service.
 */
export interface JobRateLimiter {
  /** Throws (naming `where`) unless `policy` is a policy of `rateLimit.policies`. */
  check(policy: string, where: string): void;
  /**
   * Takes one unit of `key` under `policy` if it fits; else `retryAfterMs` says when it would. A
   * store failure is decided by the policy's `onStoreError` (`storeFailed` then set), never thrown.
   */
  consume(key: string, policy: string): Promise<{ allowed: boolean; retryAfterMs: number; storeFailed: boolean }>;
}

/** DI token of the `JobRateLimiter`. */
export const JOB_RATE_LIMITER = Symbol('JobRateLimiter');
