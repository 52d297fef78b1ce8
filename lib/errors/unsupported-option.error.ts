import type { ProviderName } from '../common/provider-name.js';
import { BallastInputError } from './ballast-input.error.js';

/**
 * An option the active provider cannot honour, refused rather than ignored: e.g. `add(..., { client })`
 * (transactional enqueue) on Valkey/Redis, where no SQL transaction exists to join.
 */
export class UnsupportedOptionError extends BallastInputError {
  constructor(
    readonly provider: ProviderName,
    readonly option: string,
    readonly reason: string,
  ) {
    super(`Option ${option} is not supported on the ${provider} provider: ${reason}`);
  }
}
