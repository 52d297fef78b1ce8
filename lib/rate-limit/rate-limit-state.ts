import type { RateLimitResult } from './rate-limit-result.interface.js';
import type { ResolvedRateLimitPolicy } from './resolve-rate-limit-policy.js';

/**
 * A key's counters, the same three numbers on every store. The stores decide atomically (SQL or
 * Lua) and hand back the state after the decision; everything derived from it for callers
 * (remaining, reset, retry-after) is computed here, once, so the stores cannot drift apart.
 */
export interface RateLimitState {
  /** Fixed and sliding window: start of the window `used` counts. Token bucket: time of the last decision. Epoch ms. */
  windowStart: number;
  /** Units taken in that window; for the token bucket, units taken and not yet refilled. */
  used: number;
  /** Sliding window only: units taken in the window before `windowStart`. */
  prevUsed: number;
}

export type PolicyShape = Pick<ResolvedRateLimitPolicy, 'algorithm' | 'limit' | 'window'>;

/**
 * Slack in "fits" comparisons. Sliding weights and refills are fractional, and `99.99999999999999 + 1`
 * must still fit a limit of 101; the SQL and Lua use the same constant.
 */
export const FIT_EPSILON = 1e-9;

/** Start of the aligned window holding `now`. */
export function windowStartAt(now: number, window: number): number {
  return now - (now % window);
}

/** The state as it applies at `now`: old windows rolled over, the bucket refilled. Idempotent. */
export function stateAt(policy: PolicyShape, stored: RateLimitState | undefined, now: number): RateLimitState {
  const { algorithm, limit, window } = policy;
  if (algorithm === 'token-bucket') {
    if (!stored) return { windowStart: now, used: 0, prevUsed: 0 };
    const last = Math.max(stored.windowStart, 0);
    const refilled = (Math.max(0, now - last) * limit) / window;
    return { windowStart: Math.max(now, last), used: Math.max(0, stored.used - refilled), prevUsed: 0 };
  }
  const start = windowStartAt(now, window);
  if (!stored) return { windowStart: start, used: 0, prevUsed: 0 };
  if (stored.windowStart === start) return { windowStart: start, used: stored.used, prevUsed: algorithm === 'sliding-window' ? stored.prevUsed : 0 };
  if (algorithm === 'sliding-window' && stored.windowStart === start - window) return { windowStart: start, used: 0, prevUsed: stored.used };
  return { windowStart: start, used: 0, prevUsed: 0 };
}

/** Units in use at `now` for a state already brought to `now`; sliding windows weigh the previous window. */
export function loadAt(policy: PolicyShape, state: RateLimitState, now: number): number {
  if (policy.algorithm !== 'sliding-window') return state.used;
  const elapsed = now - state.windowStart;
  return (state.prevUsed * (policy.window - elapsed)) / policy.window + state.used;
}

/** Whether `cost` more units fit now. */
export function fits(policy: PolicyShape, state: RateLimitState, now: number, cost: number): boolean {
  return loadAt(policy, state, now) + cost <= policy.limit + FIT_EPSILON;
}

/** The caller-facing numbers for a state already brought to `now`. */
export function describeState(policy: PolicyShape, state: RateLimitState, now: number, allowed: boolean, cost: number): RateLimitResult {
  const load = loadAt(policy, state, now);
  return {
    allowed,
    limit: policy.limit,
    remaining: Math.max(0, Math.floor(policy.limit - load + FIT_EPSILON)),
    resetMs: resetAfter(policy, state, now),
    retryAfterMs: allowed ? 0 : Math.max(1, retryAfter(policy, state, now, cost)),
  };
}

/** Time until nothing is in use any more. */
function resetAfter(policy: PolicyShape, state: RateLimitState, now: number): number {
  const { algorithm, limit, window } = policy;
  if (algorithm === 'token-bucket') return Math.ceil((state.used * window) / limit);
  if (state.used > 0) return state.windowStart + (algorithm === 'sliding-window' ? 2 * window : window) - now;
  if (state.prevUsed > 0) return state.windowStart + window - now;
  return 0;
}

/** Time until `cost` units fit; assumes they do not fit now and that `cost <= limit`. */
function retryAfter(policy: PolicyShape, state: RateLimitState, now: number, cost: number): number {
  const { algorithm, limit, window } = policy;
  if (algorithm === 'token-bucket') return Math.ceil(((state.used + cost - limit) * window) / limit);
  const untilNextWindow = state.windowStart + window - now;
  if (algorithm === 'fixed-window') return untilNextWindow;
  // Sliding: the previous window's weight falls linearly; find when prev * weight + used + cost
  // reaches the limit, in this window or, failing that, in the next (where `used` becomes prev).
  const room = limit - cost - state.used;
  if (room >= 0 && state.prevUsed > 0) {
    const at = window - (room * window) / state.prevUsed;
    if (at < window) return Math.ceil(at - (now - state.windowStart));
  }
  const roomNext = limit - cost;
  const atNext = state.used <= roomNext ? 0 : window - (roomNext * window) / state.used;
  return untilNextWindow + Math.ceil(atNext);
}
