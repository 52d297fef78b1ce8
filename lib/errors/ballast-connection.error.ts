import type { ProviderName } from '../common/provider-name.js';
import { BallastBackendError } from './ballast-backend.error.js';

/**
 * A store could not be reached, or did not answer, while the app booted: the boot fails rather than
 * start an app whose first calls would all fail. `where` is the store (host and port, never a
 * password) and `source` the option or env var that points there, e.g. `DATABASE_URL`.
 */
export class BallastConnectionError extends BallastBackendError {
  constructor(
    provider: ProviderName,
    readonly where: string,
    readonly source: string,
    /** What Ballast was doing, e.g. `connecting for the cache`. */
    operation: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(provider, operation, reason, options);
    this.message = `Ballast could not use ${provider} at ${where} (set by ${source}) while ${operation}: ${reason}`;
  }
}
