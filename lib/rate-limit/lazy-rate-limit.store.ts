import type { Clock } from '../common/clock.js';
import type { ProviderName } from '../common/provider-name.js';
import { OpenOnce } from '../common/open-once.js';
import { BallastBackendError } from '../errors/ballast-backend.error.js';
import type { RateLimitState } from './rate-limit-state.js';
import type { RateLimitStore, RateLimitStoreDecision, RateLimitStorePolicy } from './rate-limit-store.interface.js';

/**
 * Opens the real store (its connection, its tables) on first use, so an app that imports Ballast for
 * the cache or queue alone never opens a database, or creates tables, for rate limits. The module
 * opens it at boot instead when policies are configured or a route is limited: a Postgres store that
 * cannot be opened (unreachable, migration failed) then fails the boot; Valkey/Redis waits at most
 * `timeoutMs` for its connection and keeps connecting in the background. Opens and closes as
 * `OpenOnce` does.
 */
export class LazyRateLimitStore implements RateLimitStore {
  private readonly store: OpenOnce<RateLimitStore>;

  constructor(
    readonly provider: ProviderName,
    readonly clock: Clock,
    open: () => Promise<RateLimitStore>,
  ) {
    this.store = new OpenOnce(open, () => new BallastBackendError(provider, 'rateLimit', 'the rate limiter is closed (the application shut down)'));
  }

  /** The open store's figure; one call at a time until it is open (the first call opens it). */
  get maxConcurrentCalls(): number {
    return this.store.current?.maxConcurrentCalls ?? 1;
  }

  /** The real store, opened once. */
  ready(): Promise<RateLimitStore> {
    return this.store.ready();
  }

  consume(key: string, policy: RateLimitStorePolicy, cost: number, count: number): Promise<RateLimitStoreDecision> {
    // Decisions are the hot path: once open, no promise hop.
    const open = this.store.current;
    if (open) return open.consume(key, policy, cost, count);
    return this.ready().then((store) => store.consume(key, policy, cost, count));
  }

  async peek(key: string, policy: RateLimitStorePolicy): Promise<{ state: RateLimitState | undefined; now: number }> {
    return (await this.ready()).peek(key, policy);
  }

  async refund(key: string, policy: RateLimitStorePolicy, cost: number, windowStart: number): Promise<void> {
    return (await this.ready()).refund(key, policy, cost, windowStart);
  }

  async reset(key: string, policy: RateLimitStorePolicy): Promise<void> {
    return (await this.ready()).reset(key, policy);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
