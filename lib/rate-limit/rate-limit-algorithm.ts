/**
 * How a policy counts:
 * - `fixed-window`: at most `limit` units per aligned window; cheapest, but allows up to 2x `limit`
 *   across a window edge.
 * - `sliding-window`: the two-window weighted counter Cloudflare describes; smooth at window edges,
 *   still O(1) state per key.
 * - `token-bucket`: a bucket of `limit` units refilled evenly over `window`; allows bursts up to
 *   `limit`, then a steady rate of `limit` per `window`.
 */
export const RATE_LIMIT_ALGORITHMS = ['fixed-window', 'sliding-window', 'token-bucket'] as const;

export type RateLimitAlgorithm = (typeof RATE_LIMIT_ALGORITHMS)[number];

/**
 * Short code per algorithm, part of every stored key: one key's state is only ever read by the
 * algorithm that wrote it, even if a policy changes algorithm between deploys.
 */
export const ALGORITHM_CODES: Readonly<Record<RateLimitAlgorithm, string>> = {
  'fixed-window': 'fw',
  'sliding-window': 'sw',
  'token-bucket': 'tb',
};
