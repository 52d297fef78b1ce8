import type { ProviderName } from '../common/provider-name.js';
import { BallastBackendError } from '../errors/ballast-backend.error.js';
import type { RateLimitState } from './rate-limit-state.js';
import type { RateLimitStore, RateLimitStoreDecision, RateLimitStorePolicy } from './rate-limit-store.interface.js';

/**
 * Opens the real store (its connection, its tables) on first use, so an app that imports Ballast for
 * the cache or queue alone never opens a database, or creates tables, for rate limits. The module
 * opens it at boot instead when policies are configured or a route is limited: a Postgres store that
 * cannot be opened (unreachable, migration failed) then fails the boot; Valkey/Redis waits at most
 * `timeoutMs` for its connection and keeps connecting in the background. A failed open is not
 * remembered: the next call tries again.
 */
export class LazyRateLimitStore implements RateLimitStore {
  private opened: Promise<RateLimitStore> | undefined;
  /** Set by `close()`: nothing opens again after shutdown. */
  private closed = false;
  /** The real store once open: decisions then skip a promise hop on the hot path. */
  private store: RateLimitStore | undefined;

  constructor(
    readonly provider: ProviderName,
    private readonly open: () => Promise<RateLimitStore>,
  ) {}

  /** The real store, opened once. */
  ready(): Promise<RateLimitStore> {
    if (this.closed) return Promise.reject(new BallastBackendError(this.provider, 'rateLimit', 'the rate limiter is closed (the application shut down)'));
    if (!this.opened) {
      this.opened = this.open().then(
        (store) => {
          // A close() that ran while opening has cleared the field; leave it clear so calls get refused.
          if (!this.closed) this.store = store;
          return store;
        },
        (error: unknown) => {
          this.opened = undefined;
          throw error;
        },
      );
    }
    return this.opened;
  }

  consume(key: string, policy: RateLimitStorePolicy, cost: number): Promise<RateLimitStoreDecision> {
    if (this.store) return this.store.consume(key, policy, cost);
    return this.ready().then((store) => store.consume(key, policy, cost));
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

  async close(): Promise<void> {
    this.closed = true;
    const opening = this.opened;
    this.opened = undefined;
    this.store = undefined;
    if (!opening) return;
    const store = await opening.catch(() => undefined);
    await store?.close();
  }
}
