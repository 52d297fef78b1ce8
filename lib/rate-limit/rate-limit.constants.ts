/** Metadata key of `@RateLimit`: the route's policies, names or named inline objects. */
export const RATE_LIMIT_METADATA = 'ballast:rate-limit';

/** Metadata key of `@SkipRateLimit`: `true` to skip every policy, or the names to skip. */
export const SKIP_RATE_LIMIT_METADATA = 'ballast:skip-rate-limit';
