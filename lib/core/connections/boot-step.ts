import type { Logger } from '@nestjs/common';
import { errorMessage } from '../../common/error-message.js';
import type { ProviderName } from '../../common/provider-name.js';
import { RetryBackoff } from '../../common/retry-backoff.js';
import { BallastConnectionError } from '../../errors/ballast-connection.error.js';
import { BallastError } from '../../errors/ballast.error.js';
import { rejectedByServer } from './rejected-by-server.js';
import type { StoreEndpoint } from './store-endpoint.js';

/**
 * SQLSTATEs that mean "not reachable yet" rather than "refused": the connection failed (class 08),
 * the server is starting, stopping or restarting (57P0x), or it has no connection slot free (53300).
 */
const TRANSIENT_SQLSTATE = /^(08|57P0[1-4]|53300)/;

/** A failure worth retrying at boot: no connection (refused, reset, DNS, TLS), not an answer that says no. */
function transient(error: unknown): boolean {
  if (error instanceof BallastError) return false;
  if (rejectedByServer(error)) return TRANSIENT_SQLSTATE.test((error as { code: string }).code);
  return true;
}

/**
 * One boot step against a store (connect, migrate, start workers), bounded by `timeoutMs`. A store
 * that refuses connections is retried meanwhile with backoff (it may be starting beside the app, as
 * in docker compose), with one log line; an answer that says no (bad password, a failed migration)
 * fails at once. Either way the boot fails with a `BallastConnectionError` naming the store, where
 * it is and the option or env var that says so; never a raw driver error, never a password.
 */
export async function runBootStep<T>(
  provider: ProviderName,
  endpoint: StoreEndpoint,
  what: string,
  timeoutMs: number,
  logger: Pick<Logger, 'warn'>,
  step: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const backoff = new RetryBackoff(100, 1000);
  let warned = false;
  for (;;) {
    const left = deadline - Date.now();
    let outcome: { value: T } | { error: unknown } | 'timeout';
    let timer: NodeJS.Timeout | undefined;
    try {
      outcome = await Promise.race([
        step().then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), Math.max(0, left));
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    if (outcome === 'timeout') {
      throw new BallastConnectionError(provider, endpoint.where, endpoint.source, what, `no answer within ${timeoutMs} ms (bootTimeoutMs)`);
    }
    if ('value' in outcome) return outcome.value;
    const { error } = outcome;
    const wait = backoff.next();
    if (!transient(error) || Date.now() + wait >= deadline) {
      throw new BallastConnectionError(provider, endpoint.where, endpoint.source, what, errorMessage(error), { cause: error });
    }
    if (!warned) {
      warned = true;
      logger.warn(
        `${provider} at ${endpoint.where} (${endpoint.source}) is not reachable yet while ${what}: ${errorMessage(error)}; ` +
          `retrying for up to ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
