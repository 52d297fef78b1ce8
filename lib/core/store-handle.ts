import { OpenOnce } from '../common/open-once.js';
import type { ProviderName } from '../common/provider-name.js';
import { toBackendError } from '../common/with-timeout.js';
import { BallastBackendError } from '../errors/ballast-backend.error.js';

/**
 * How every service holds its store: opened once, either at boot (the service is configured, or
 * declared by `@Job` / `@RateLimit`: its tables exist before the app is ready) or on first use (an
 * app that never touches the service never opens a connection or creates a table for it). The one
 * mechanism for all three services; which of the two applies is decided by the module at boot.
 * After `close()` nothing opens again: a late call gets a `BallastBackendError`.
 */
export class StoreHandle<T extends { close(): Promise<void> }> {
  private readonly store: OpenOnce<T>;

  constructor(
    /** The provider the store runs on, known before it opens. */
    readonly provider: ProviderName,
    /** The service, for the error of a call after shutdown. */
    service: 'cache' | 'queue' | 'rateLimit',
    open: () => Promise<T>,
  ) {
    this.store = new OpenOnce(open, () => new BallastBackendError(provider, service, `the ${service} is closed (the application shut down)`));
  }

  /** The store once open: hot paths use it without a promise hop. */
  get current(): T | undefined {
    return this.store.current;
  }

  /** The store, opened once (a failed open is tried again on the next call). */
  ready(): Promise<T> {
    return this.store.ready();
  }

  /**
   * The store for a call: at once when open, else opened now, a failure to open becoming a
   * `BallastBackendError` of `operation` (e.g. `cache.open`). Callers time the call itself, not the
   * opening: embedded PGlite alone can take seconds to start.
   */
  forCall(operation: string): T | Promise<T> {
    return (
      this.store.current ??
      this.store.ready().catch((error: unknown) => {
        throw toBackendError(this.provider, operation, error);
      })
    );
  }

  /** Runs `work` on the store, opening it first if needed. */
  use<R>(work: (store: T) => Promise<R>): Promise<R> {
    const open = this.store.current;
    return open ? work(open) : this.store.ready().then(work);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
