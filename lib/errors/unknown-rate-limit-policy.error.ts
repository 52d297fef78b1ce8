import { BallastConfigError } from './ballast-config.error.js';

/**
 * A policy name that `rateLimit.policies` does not define, used in `rateLimit.global`, in
 * `@RateLimit('name')` (checked at boot) or in a `RateLimitService` call. `where` says where the
 * name was used; `known` lists the names that exist. A config error, so `BallastConfigError` catches it.
 */
export class UnknownRateLimitPolicyError extends BallastConfigError {
  constructor(
    readonly policy: string,
    readonly where: string,
    readonly known: readonly string[],
  ) {
    super(where, policy, known.length > 0 ? `a policy of rateLimit.policies: ${known.map((name) => `"${name}"`).join(', ')}` : 'a policy of rateLimit.policies, which defines none');
  }
}
