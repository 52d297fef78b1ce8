/** The stores a Ballast service can run on. `valkey` and `redis` share one implementation. */
export const PROVIDER_NAMES = ['postgres', 'valkey', 'redis'] as const;

/** The backend a service runs on: `postgres` (default, embedded PGlite when no connection is given), `valkey` or `redis`. */
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** Valkey and Redis speak one protocol; this names the two together. */
export type RedisProtocolProviderName = Exclude<ProviderName, 'postgres'>;
