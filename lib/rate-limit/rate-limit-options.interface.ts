import type { ProviderName } from '../common/provider-name.js';
import type { RateLimitPolicy, RateLimitStoreErrorPolicy } from './rate-limit-policy.interface.js';

/** Options of the rate-limit service and guard (`forRoot({ rateLimit: { ... } })`). */
export interface RateLimitOptions {
  /**
   * Where counters live. Env `RATE_LIMIT_PROVIDER`.
   * @default 'postgres'
   */
  provider?: ProviderName;
  /**
   * Named policies, used as `@RateLimit('login')`, in `global` and by `RateLimitService`. Names are
   * letters, digits and `_.-`. Every route using one name shares its budget per key.
   * @default {}
   */
  policies?: Record<string, RateLimitPolicy>;
  /**
   * Policy name(s) applied to every HTTP route in addition to its own `@RateLimit`, unless the route
   * says `@SkipRateLimit()`.
   * @default undefined (no global policy)
   */
  global?: string | readonly string[];
  /**
   * Registers the guard for every route. Set `false` to apply `RateLimitGuard` yourself with
   * `@UseGuards(AuthGuard, RateLimitGuard)`, e.g. when `key: 'user'` needs a guard-based login to
   * run first (Nest runs global guards before route guards).
   * @default true
   */
  guard?: boolean;
  /**
   * Sends the IETF `RateLimit-Policy` and `RateLimit` fields on limited routes.
   * @default true
   */
  headers?: boolean;
  /**
   * Also sends `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds).
   * @default true
   */
  legacyHeaders?: boolean;
  /**
   * Upper bound in ms of one store call; past it the policy's `onStoreError` decides.
   * @default 1000
   */
  timeoutMs?: number;
  /**
   * Failure policy for policies that set no `onStoreError`.
   * @default 'allow'
   */
  onStoreError?: RateLimitStoreErrorPolicy;
  /**
   * Store failures are logged at most once per this many ms, with a count of the ones in between.
   * @default 30000
   */
  errorLogIntervalMs?: number;
  /**
   * Postgres only: how often expired counters are deleted, in ms.
   * @default 60000
   */
  pruneIntervalMs?: number;
  /**
   * Postgres only: rows deleted per prune statement, so pruning never holds long locks.
   * @default 1000
   */
  pruneBatchSize?: number;
}
