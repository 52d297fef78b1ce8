import type { Clock } from '../common/clock.js';
import type { ProviderName } from '../common/provider-name.js';
import type { RateLimitState } from './rate-limit-state.js';
import type { ResolvedRateLimitPolicy } from './resolve-rate-limit-policy.js';

/** What a store needs of a policy: the numbers of the algorithm and where the counter lives. */
export type RateLimitStorePolicy = Pick<ResolvedRateLimitPolicy, 'algorithm' | 'limit' | 'window' | 'durable'>;

/**
 * One decision as the store made it, for `count` calls of one cost on one key: how many of them fit
 * (the first `granted`, in order), the state after it, and the store's clock.
 */
export interface RateLimitStoreDecision {
  granted: number;
  /** The state after the decision, with the granted calls' units taken. */
  state: RateLimitState;
  /** The time the decision was made at, epoch ms, from the store's clock (or the injected one). */
  now: number;
}

/**
 * The rate limiter's backend seam. Each `consume` is one atomic statement or script: the store
 * reads, decides and writes under one lock, so concurrent callers can never both take the last
 * unit. A rejected call changes no counter. Keys arrive already namespaced and hashed.
 */
export interface RateLimitStore {
  readonly provider: ProviderName;
  /** Store calls worth having in flight at once; decisions beyond them wait (and join) in the service. */
  readonly maxConcurrentCalls: number;
  /**
   * The clock that times this store's decisions as seen from this process: the injected one on
   * Postgres, the system clock where the store keeps its own time. Only durations are taken from it.
   */
  readonly clock: Clock;
  /**
   * Decides `count` calls of `cost` units each on one key, one after the other, atomically: takes the
   * units of as many as fit, in order. `cost` is already checked to be 0..limit; `count >= 1`.
   */
  consume(key: string, policy: RateLimitStorePolicy, cost: number, count: number): Promise<RateLimitStoreDecision>;
  /** The stored state, unchanged (undefined when the key has none), and the store's time. */
  peek(key: string, policy: RateLimitStorePolicy): Promise<{ state: RateLimitState | undefined; now: number }>;
  /**
   * Gives back `cost` units taken by a `consume` whose `state.windowStart` was `windowStart`; a
   * no-op once that window no longer counts. Used when another policy of the same request rejected it.
   */
  refund(key: string, policy: RateLimitStorePolicy, cost: number, windowStart: number): Promise<void>;
  /** Forgets the key's counter. */
  reset(key: string, policy: RateLimitStorePolicy): Promise<void>;
  /** Stops background work and closes connections the store opened for itself. */
  close(): Promise<void>;
}

/** DI token of the active `RateLimitStore`. */
export const RateLimitStore = Symbol('RateLimitStore');
