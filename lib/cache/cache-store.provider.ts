import type { FactoryProvider } from '@nestjs/common';
import { BALLAST_CONFIG } from '../ballast.constants.js';
import type { BallastConfig } from '../core/config/ballast-core-config.js';
import { quoteIdentifier } from '../core/config/identifiers.js';
import { BallastConnections } from '../core/connections/ballast-connections.js';
import { migrate } from '../core/migrations/migrator.js';
import { CacheStore } from './cache-store.interface.js';
import { cacheMigrations } from '../drivers/postgres/cache/postgres-cache.migrations.js';
import { PostgresCacheStore } from '../drivers/postgres/cache/postgres-cache.store.js';
import { PostgresCacheSweeper } from '../drivers/postgres/cache/postgres-cache.sweeper.js';
import { RedisCacheStore } from '../drivers/redis/cache/redis-cache.store.js';

/**
 * Builds the configured `CacheStore`. On Postgres it migrates the cache tables first, on Valkey/Redis
 * it waits for the connection: Nest awaits this factory, so the app is not ready until the store is,
 * and a store that cannot be reached within `bootTimeoutMs` fails the boot, naming it.
 */
export const cacheStoreProvider: FactoryProvider<CacheStore> = {
  provide: CacheStore,
  inject: [BALLAST_CONFIG, BallastConnections],
  useFactory: async (config: BallastConfig, connections: BallastConnections): Promise<CacheStore> => {
    const provider = config.cache.provider;
    if (provider !== 'postgres') {
      await connections.atBoot(provider, 'connecting for the cache', () => connections.redisReady(provider));
      return new RedisCacheStore(provider, connections.redis(provider), config.keyPrefix);
    }
    const db = await connections.atBoot('postgres', 'creating the cache tables', async () => {
      const opened = await connections.postgres();
      await migrate(opened, config.schema, cacheMigrations);
      return opened;
    });
    const quoted = quoteIdentifier(config.schema);
    const sweeper = new PostgresCacheSweeper(db, config.schema, quoted, config.clock, {
      intervalMs: config.cache.sweepIntervalMs,
      batchSize: config.cache.sweepBatchSize,
      maxEntries: config.cache.maxEntries,
    });
    return new PostgresCacheStore(db, quoted, config.clock, sweeper);
  },
};
