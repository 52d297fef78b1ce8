import { BallastConfigError } from '../errors/ballast-config.error.js';
import { RATE_LIMIT_ALGORITHMS, type RateLimitAlgorithm } from './rate-limit-algorithm.js';
import type { RateLimitKey, RateLimitPolicy, RateLimitStoreErrorPolicy } from './rate-limit-policy.interface.js';

/** Policy names reach stored keys and the `RateLimit-Policy` header: printable, no quotes or spaces. */
export const SAFE_POLICY_NAME = /^[A-Za-z0-9_.\-]{1,64}$/;

/** A policy after defaults and validation; what the service, stores and guard read. */
export interface ResolvedRateLimitPolicy {
  readonly name: string;
  readonly limit: number;
  readonly window: number;
  readonly algorithm: RateLimitAlgorithm;
  readonly key: RateLimitKey;
  readonly durable: boolean;
  readonly onStoreError: RateLimitStoreErrorPolicy;
}

/**
 * Validates one policy, or throws `BallastConfigError` naming `path` plus the bad field. `name` is the
 * policy's record key or route scope; an inline policy without one is named after its numbers.
 */
export function resolveRateLimitPolicy(
  policy: unknown,
  path: string,
  defaults: { onStoreError: RateLimitStoreErrorPolicy; name?: string },
): ResolvedRateLimitPolicy {
  if (typeof policy !== 'object' || policy === null) {
    throw new BallastConfigError(path, policy, '{ limit, window, algorithm? }');
  }
  const p = policy as Partial<Record<keyof RateLimitPolicy, unknown>>;
  const limit = p.limit;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new BallastConfigError(`${path}.limit`, limit, 'an integer >= 1');
  }
  const window = p.window;
  if (typeof window !== 'number' || !Number.isSafeInteger(window) || window < 1) {
    throw new BallastConfigError(`${path}.window`, window, 'an integer number of milliseconds >= 1, e.g. minutes(1)');
  }
  const algorithm = p.algorithm ?? 'sliding-window';
  if (!(RATE_LIMIT_ALGORITHMS as readonly unknown[]).includes(algorithm)) {
    throw new BallastConfigError(`${path}.algorithm`, algorithm, RATE_LIMIT_ALGORITHMS.map((a) => `'${a}'`).join(', '));
  }
  const key = p.key ?? 'ip';
  if (key !== 'ip' && key !== 'user' && typeof key !== 'function') {
    throw new BallastConfigError(`${path}.key`, key, "'ip', 'user' or a function of the ExecutionContext");
  }
  const durable = p.durable ?? false;
  if (typeof durable !== 'boolean') throw new BallastConfigError(`${path}.durable`, durable, 'true or false');
  const onStoreError = readStoreErrorPolicy(p.onStoreError, `${path}.onStoreError`, defaults.onStoreError);
  const name = p.name ?? defaults.name ?? `${limit}-per-${window}ms`;
  if (typeof name !== 'string' || !SAFE_POLICY_NAME.test(name)) {
    throw new BallastConfigError(`${path}.name`, name, `1 to 64 characters matching ${SAFE_POLICY_NAME}`);
  }
  return {
    name,
    limit,
    window,
    algorithm: algorithm as RateLimitAlgorithm,
    key: key as RateLimitKey,
    durable,
    onStoreError,
  };
}

/** What a failing store means for a decision: `'allow'` or `'deny'`, checked in one place for the module and each policy. */
export function readStoreErrorPolicy(value: unknown, key: string, fallback: RateLimitStoreErrorPolicy): RateLimitStoreErrorPolicy {
  if (value === undefined) return fallback;
  if (value !== 'allow' && value !== 'deny') throw new BallastConfigError(key, value, "'allow' or 'deny'");
  return value;
}
