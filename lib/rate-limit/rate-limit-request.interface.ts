import type { RateLimitPolicy } from './rate-limit-policy.interface.js';
import type { RateLimitResult } from './rate-limit-result.interface.js';

/** One policy check of `RateLimitService.consumeAll`. */
export interface RateLimitRequest {
  /** Whom to count against, e.g. `user:42`; any length (it is hashed). */
  key: string;
  /** A policy name from `rateLimit.policies`, or a policy object. */
  policy: string | RateLimitPolicy;
  /**
   * Units to take.
   * @default 1
   */
  cost?: number;
}

/** The outcome of `consumeAll`: allowed only if every policy allowed. */
export interface RateLimitCombinedResult {
  allowed: boolean;
  /** One result per request, in order. Policies that allowed a call rejected by another were refunded. */
  results: RateLimitResult[];
}
