import type { RateLimitResult } from './rate-limit-result.interface.js';
import type { ResolvedRateLimitPolicy } from './resolve-rate-limit-policy.js';

/** One policy's verdict on a request. */
export interface PolicyOutcome {
  policy: ResolvedRateLimitPolicy;
  result: RateLimitResult;
}

/**
 * Response headers for a request's verdicts. The IETF httpapi draft fields (structured fields, one
 * list member per policy):
 *
 *     RateLimit-Policy: "login";q=5;w=900, "api";q=100;w=60
 *     RateLimit: "login";r=4;t=900, "api";r=99;t=60
 *
 * `q` quota, `w` window in seconds (token bucket: time to refill from empty), `r` remaining, `t`
 * seconds until the quota is fully restored, or, for a policy that rejected the request, until it
 * would fit (as `Retry-After`). The legacy `X-RateLimit-*` trio can carry one policy only, so it
 * describes the tightest: the one that rejected, else the one with the fewest units left.
 * Verdicts made by `onStoreError` describe no counter and are left out.
 */
export function rateLimitHeaders(outcomes: readonly PolicyOutcome[], include: { draft: boolean; legacy: boolean }): Array<[string, string]> {
  const counted = outcomes.filter((o) => o.result.storeError === undefined);
  if (counted.length === 0) return [];
  const headers: Array<[string, string]> = [];
  if (include.draft) {
    headers.push(['RateLimit-Policy', counted.map((o) => `"${o.policy.name}";q=${o.policy.limit};w=${toSeconds(o.policy.window)}`).join(', ')]);
    headers.push(['RateLimit', counted.map((o) => `"${o.policy.name}";r=${o.result.remaining};t=${secondsUntilMore(o.result)}`).join(', ')]);
  }
  if (include.legacy) {
    const tightest = counted.reduce((a, b) => (tighter(b.result, a.result) ? b : a));
    headers.push(['X-RateLimit-Limit', String(tightest.result.limit)]);
    headers.push(['X-RateLimit-Remaining', String(tightest.result.remaining)]);
    headers.push(['X-RateLimit-Reset', String(secondsUntilMore(tightest.result))]);
  }
  return headers;
}

/** Whole seconds, rounded up: a client that waits that long is never early. */
export function toSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

function secondsUntilMore(result: RateLimitResult): number {
  return toSeconds(result.allowed ? result.resetMs : result.retryAfterMs);
}

function tighter(a: RateLimitResult, b: RateLimitResult): boolean {
  if (a.allowed !== b.allowed) return !a.allowed;
  if (!a.allowed) return a.retryAfterMs > b.retryAfterMs;
  return a.remaining < b.remaining || (a.remaining === b.remaining && a.resetMs > b.resetMs);
}
