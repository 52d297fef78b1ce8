import type { ProviderName } from '../common/provider-name.js';
import { BallastBackendError } from './ballast-backend.error.js';

/** A store call took longer than its configured bound; a backend error like any other. */
export class BallastTimeoutError extends BallastBackendError {
  constructor(
    provider: ProviderName,
    operation: string,
    readonly timeoutMs: number,
    options?: { outcome?: 'unknown' },
  ) {
    super(provider, operation, `no answer within ${timeoutMs} ms`, options);
  }
}
