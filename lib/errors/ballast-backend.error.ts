import type { ProviderName } from '../common/provider-name.js';
import { BallastError } from './ballast.error.js';

/**
 * A store failed or did not answer in time. `provider` names the backend, `operation` the call;
 * the driver's own error is kept as `cause`.
 */
export class BallastBackendError extends BallastError {
  constructor(
    readonly provider: ProviderName,
    readonly operation: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Ballast ${provider} backend failed in ${operation}: ${reason}`, options);
  }
}
