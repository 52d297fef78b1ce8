export { BallastModule } from './ballast.module.js';
export { BALLAST_MODULE_OPTIONS } from './ballast.module-definition.js';
export { BALLAST_CONFIG } from './ballast.constants.js';
export type {
  BallastModuleOptions,
  PostgresConnectionOptions,
  RedisConnectionOptions,
} from './ballast-options.interface.js';
export type { BallastConfig } from './config/ballast-config.js';
export { resolveBallastConfig, type BallastEnv } from './config/resolve-config.js';
export { PROVIDER_NAMES, type ProviderName } from './common/provider-name.js';
export { milliseconds, seconds, minutes, hours, days } from './common/duration.js';
export type { Clock } from './common/clock.js';
export { MAX_KEY_LENGTH } from './common/assert-key.js';
export type { SqlClient, SqlResult, SqlDatabase } from './connections/sql-client.js';

export { CacheService } from './cache/cache.service.js';
export type { CacheOptions } from './cache/cache-options.interface.js';
export type { CacheSetOptions } from './cache/cache-set-options.interface.js';
export { CacheStore, type CacheStoreEntry } from './cache/cache-store.interface.js';

export { BallastError } from './errors/ballast.error.js';
export { BallastConfigError } from './errors/ballast-config.error.js';
export { BallastBackendError } from './errors/ballast-backend.error.js';
export { BallastTimeoutError } from './errors/ballast-timeout.error.js';
export { InvalidKeyError } from './errors/invalid-key.error.js';
export { InvalidTtlError } from './errors/invalid-ttl.error.js';
export { SerializationError } from './errors/serialization.error.js';
