import type { BallastEnv } from '../core/config/ballast-env.js';
import type { ProviderName } from '../common/provider-name.js';
import { readBoolean } from '../core/config/read-flag.js';
import { readInteger } from '../core/config/read-integer.js';
import { resolveProvider, serviceConfigured } from '../core/config/resolve-provider.js';
import { BallastConfigError } from '../errors/ballast-config.error.js';
import { UnknownRateLimitPolicyError } from '../errors/unknown-rate-limit-policy.error.js';
import type { RateLimitOptions } from './rate-limit-options.interface.js';
import type { RateLimitStoreErrorPolicy } from './rate-limit-policy.interface.js';
import { readStoreErrorPolicy, resolveRateLimitPolicy, SAFE_POLICY_NAME, type ResolvedRateLimitPolicy } from './resolve-rate-limit-policy.js';

/** The rate-limit options after env, defaults and validation. */
export interface ResolvedRateLimitConfig {
  provider: ProviderName;
  /** The app gave `rateLimit` options or `RATE_LIMIT_PROVIDER`: the store opens at boot (as it does for `@RateLimit` routes), else on first use. */
  configured: boolean;
  policies: ReadonlyMap<string, ResolvedRateLimitPolicy>;
  global: readonly string[];
  guard: boolean;
  headers: boolean;
  legacyHeaders: boolean;
  timeoutMs: number;
  onStoreError: RateLimitStoreErrorPolicy;
  errorLogIntervalMs: number;
  pruneIntervalMs: number;
  pruneBatchSize: number;
}

/** Rate-limit options plus env (`RATE_LIMIT_PROVIDER`) and defaults; every policy is checked here, at boot. */
export function resolveRateLimitConfig(given: RateLimitOptions | undefined, env: BallastEnv): ResolvedRateLimitConfig {
  const options = given ?? {};
  const onStoreError = readStoreErrorPolicy(options.onStoreError, 'rateLimit.onStoreError', 'allow');
  const policies = new Map<string, ResolvedRateLimitPolicy>();
  for (const [name, policy] of Object.entries(options.policies ?? {})) {
    const path = `rateLimit.policies.${name}`;
    if (!SAFE_POLICY_NAME.test(name)) throw new BallastConfigError(path, name, `a policy name matching ${SAFE_POLICY_NAME}`);
    // The record key is the name; a `name` field inside would only contradict it.
    policies.set(name, resolveRateLimitPolicy({ ...policy, name }, path, { onStoreError }));
  }
  const global = options.global === undefined ? [] : typeof options.global === 'string' ? [options.global] : [...options.global];
  for (const name of global) {
    if (!policies.has(name)) throw new UnknownRateLimitPolicyError(name, 'rateLimit.global', [...policies.keys()]);
  }
  return {
    provider: resolveProvider(options.provider, 'rateLimit.provider', env, 'RATE_LIMIT_PROVIDER'),
    configured: serviceConfigured(given, env, 'RATE_LIMIT_PROVIDER'),
    policies,
    global,
    guard: readBoolean(options.guard, 'rateLimit.guard', true),
    headers: readBoolean(options.headers, 'rateLimit.headers', true),
    legacyHeaders: readBoolean(options.legacyHeaders, 'rateLimit.legacyHeaders', true),
    timeoutMs: readInteger(options.timeoutMs, 'rateLimit.timeoutMs', { min: 1, fallback: 1000 }),
    onStoreError,
    errorLogIntervalMs: readInteger(options.errorLogIntervalMs, 'rateLimit.errorLogIntervalMs', { min: 0, fallback: 30_000 }),
    pruneIntervalMs: readInteger(options.pruneIntervalMs, 'rateLimit.pruneIntervalMs', { min: 1, fallback: 60_000 }),
    pruneBatchSize: readInteger(options.pruneBatchSize, 'rateLimit.pruneBatchSize', { min: 1, fallback: 1000 }),
  };
}

/** DI token of the rate limiter's `ResolvedRateLimitConfig`. */
export const RATE_LIMIT_CONFIG = Symbol('RATE_LIMIT_CONFIG');
