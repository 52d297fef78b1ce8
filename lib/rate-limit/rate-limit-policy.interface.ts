import type { ExecutionContext } from '@nestjs/common';
import type { RateLimitAlgorithm } from './rate-limit-algorithm.js';

/**
 * Whom the guard counts a request against:
 * - `'ip'`: the client address as the HTTP platform reports it (`req.ip`), so behind a proxy it
 *   follows Express `trust proxy` / Fastify `trustProxy`; a raw `X-Forwarded-For` is never read.
 *   IPv6 clients are counted per /64, the block one subscriber usually holds.
 * - `'user'`: `req.user.id` as set by authentication that ran before the guard; anonymous
 *   requests fall back to the IP.
 * - a function of the `ExecutionContext` returning the key; `undefined` or `''` falls back to the IP.
 *
 * Keys are hashed before they reach the store, so their length does not matter.
 */
export type RateLimitKey = 'ip' | 'user' | ((context: ExecutionContext) => string | undefined | Promise<string | undefined>);

/** What happens to a decision when the store fails or exceeds `rateLimit.timeoutMs`. */
export type RateLimitStoreErrorPolicy = 'allow' | 'deny';

/** A rate limit: `limit` units per `window` milliseconds, counted by `algorithm`. */
export interface RateLimitPolicy {
  /** Units allowed per window (the bucket's capacity for `token-bucket`); a whole number >= 1. */
  limit: number;
  /** The window in milliseconds, e.g. `minutes(1)`; for `token-bucket`, the time to refill from empty. */
  window: number;
  /**
   * How requests are counted; see `RateLimitAlgorithm`.
   * @default 'sliding-window'
   */
  algorithm?: RateLimitAlgorithm;
  /**
   * The guard's key for a request; not used by `RateLimitService`, whose callers pass the key.
   * @default 'ip'
   */
  key?: RateLimitKey;
  /**
   * Postgres only: keep this policy's counters in a logged table, so they survive a Postgres crash
   * (for contractual quotas). The default table is UNLOGGED: cheaper writes, emptied after a crash.
   * @default false
   */
  durable?: boolean;
  /**
   * When the store fails or times out: `'allow'` lets the request through (fail open), `'deny'`
   * refuses it (fail closed; the guard answers 503). Either way the failure is logged.
   * @default the module's `rateLimit.onStoreError`, itself 'allow'
   */
  onStoreError?: RateLimitStoreErrorPolicy;
  /**
   * Names an inline policy in headers and stored keys; letters, digits and `_.-`. Named policies
   * from `rateLimit.policies` take their record key, and `@RateLimit({...})` defaults to
   * `Controller.handler` (or `Controller` on a class), so each route has its own budget.
   * @default `<limit>-per-<window>ms`
   */
  name?: string;
}
