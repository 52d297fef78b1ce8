import type { ProviderName } from '../common/provider-name.js';
import { BallastError } from './ballast.error.js';

/**
 * A store failed or did not answer in time. `provider` names the backend, `operation` the call;
 * the driver's own error is kept as `cause`. `outcome: 'unknown'` marks a write that may have been
 * applied anyway (the store got it, then the answer was lost or late): an `add` that failed so may
 * still have created its job.
 */
export class BallastBackendError extends BallastError {
  readonly outcome: 'unknown' | undefined;

  constructor(
    readonly provider: ProviderName,
    readonly operation: string,
    readonly reason: string,
    options?: { cause?: unknown; outcome?: 'unknown' },
  ) {
    super(
      `Ballast ${provider} backend failed in ${operation}: ${reason}` +
        (options?.outcome === 'unknown' ? '; the write may have been applied anyway (outcome unknown): retry with the same jobId to be safe' : ''),
      options,
    );
    this.outcome = options?.outcome;
  }
}
