import type { ProviderName } from '../common/provider-name.js';
import type { RateLimitState } from './rate-limit-state.js';
import type { ResolvedRateLimitPolicy } from './resolve-rate-limit-policy.js';

/** What a store needs of a policy: the numbers of the algorithm and where the counter lives. */
export type RateLimitStorePolicy = Pick<ResolvedRateLimitPolicy, 'algorithm' | 'limit' | 'window' | 'durable'>;

/** One decision as the store made it: the verdict, the state after it, and the store's clock. */
export interface RateLimitStoreDecision {
  allowed: boolean;
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
  /** Takes `cost` units if they fit; `cost` is already checked to be 0..limit. */
  consume(key: string, policy: RateLimitStorePolicy, cost: number): Promise<RateLimitStoreDecision>;
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
