import type { ProviderName } from './provider-name.js';
import { errorMessage } from './error-message.js';
import { BallastBackendError } from '../errors/ballast-backend.error.js';
import { BallastTimeoutError } from '../errors/ballast-timeout.error.js';
import { BallastError } from '../errors/ballast.error.js';

/**
 * Runs one store call with an upper bound on its duration. A driver error becomes
 * `BallastBackendError` naming the provider; no answer within `timeoutMs` becomes `BallastTimeoutError`.
 * The driver call itself is not cancelled (drivers cannot), but the caller is never left hanging.
 */
export function withTimeout<T>(provider: ProviderName, operation: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BallastTimeoutError(provider, operation, timeoutMs)), timeoutMs);
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(toBackendError(provider, operation, error));
      },
    );
  });
}

/** Wraps a driver error; Ballast's own errors pass through unchanged. */
export function toBackendError(provider: ProviderName, operation: string, error: unknown): BallastError {
  if (error instanceof BallastError) return error;
  const reason = errorMessage(error);
  return new BallastBackendError(provider, operation, reason, { cause: error });
}
