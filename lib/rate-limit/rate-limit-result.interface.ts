import type { BallastError } from '../errors/ballast.error.js';

/** The outcome of one rate-limit decision (`consume`) or look (`peek`). Times are milliseconds. */
export interface RateLimitResult {
  /** Whether the call fits the limit (for `peek`: whether a call of cost 1 would fit now). */
  allowed: boolean;
  /** The policy's `limit`. */
  limit: number;
  /** Whole units left right after this decision. */
  remaining: number;
  /** Time until the quota is fully restored (0 when nothing is in use). */
  resetMs: number;
  /** When rejected: time until the same call would fit; 0 when allowed. */
  retryAfterMs: number;
  /**
   * Set when the store failed and the policy's `onStoreError` decided instead; the other fields
   * then describe no real counter (`remaining` is `limit` when allowed, 0 when denied).
   */
  storeError?: BallastError;
}

/** Per-call options of `RateLimitService.consume`. */
export interface RateLimitConsumeOptions {
  /**
   * Units this call takes, a whole number from 0 to the policy's `limit` (e.g. a batch size).
   * @default 1
   */
  cost?: number;
}
