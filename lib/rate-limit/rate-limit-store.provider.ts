import type { FactoryProvider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BALLAST_CONFIG } from '../ballast.constants.js';
import { systemClock } from '../common/clock.js';
import type { BallastConfig } from '../core/config/ballast-core-config.js';
import { quoteIdentifier } from '../core/config/identifiers.js';
import { BallastConnections } from '../core/connections/ballast-connections.js';
import { migrate } from '../core/migrations/migrator.js';
import { LazyRateLimitStore } from './lazy-rate-limit.store.js';
import { RateLimitStore } from './rate-limit-store.interface.js';
import { rateLimitMigrations } from '../drivers/postgres/rate-limit/postgres-rate-limit.migrations.js';
import { PostgresRateLimitPruner } from '../drivers/postgres/rate-limit/postgres-rate-limit.pruner.js';
import { rateLimitSql } from '../drivers/postgres/rate-limit/postgres-rate-limit.sql.js';
import { PostgresRateLimitStore } from '../drivers/postgres/rate-limit/postgres-rate-limit.store.js';
import { RedisRateLimitStore } from '../drivers/redis/rate-limit/redis-rate-limit.store.js';

/**
 * Builds the configured `RateLimitStore`, opened on first use, or at boot when `rateLimit.policies`
 * names any (Nest awaits this factory, so the app is not ready until the counter tables exist) or,
 * through `RateLimitExplorer`, when a route is limited.
 */
export const rateLimitStoreProvider: FactoryProvider<RateLimitStore> = {
  provide: RateLimitStore,
  inject: [BALLAST_CONFIG, BallastConnections],
  useFactory: async (config: BallastConfig, connections: BallastConnections): Promise<RateLimitStore> => {
    const provider = config.rateLimit.provider;
    // Postgres decides by the injected clock when there is one; Valkey/Redis by the server's.
    const clock = provider === 'postgres' ? config.clock : systemClock;
    const store = new LazyRateLimitStore(provider, clock, () => openStore(config, connections));
    if (config.rateLimit.policies.size > 0 || config.rateLimit.providerChosen) await openAtBoot(store, config, connections);
    return store;
  },
};

/**
 * Opens the store before the app is ready, within `bootTimeoutMs`: an unreachable store fails the
 * boot, naming it, instead of every decision later falling to `onStoreError`.
 */
export async function openAtBoot(store: LazyRateLimitStore, config: BallastConfig, connections: BallastConnections): Promise<void> {
  const provider = config.rateLimit.provider;
  await connections.atBoot(provider, 'opening the rate-limit store', async () => {
    if (provider !== 'postgres') await connections.redisReady(provider);
    await store.ready();
  });
}

async function openStore(config: BallastConfig, connections: BallastConnections): Promise<RateLimitStore> {
  const provider = config.rateLimit.provider;
  if (provider !== 'postgres') {
    // A client of the store's own, duplicated from the configured one (same server, credentials and
    // TLS), without an offline queue: while disconnected a call fails at once and `onStoreError`
    // decides. Queued calls would run when the server returns, long after their callers were
    // answered, and take units from budgets for requests already decided. The shared client, which
    // the cache and queue use, keeps its own settings. (No auto-pipelining: the store already sends
    // each tick's decisions as one call, and ioredis' pipelining would only add work.)
    const client = connections.redis(provider).duplicate({ enableOfflineQueue: false, connectionName: 'ballast-rate-limit' });
    // Failures reach callers through the failure policy; without a listener ioredis would also print each one.
    client.on('error', () => undefined);
    await connected(client, config.rateLimit.timeoutMs);
    return new RedisRateLimitStore(provider, client, config.keyPrefix);
  }
  const db = await connections.postgres();
  await migrate(db, config.schema, rateLimitMigrations);
  const sql = rateLimitSql(quoteIdentifier(config.schema));
  // With the system clock, "now" is the database's, so app servers with skewed clocks agree; an
  // injected clock (tests, simulations) is used as given.
  const clock = config.clock;
  const now = clock === systemClock ? () => null : () => clock.now();
  const pruner = new PostgresRateLimitPruner(db, [sql.volatile, sql.durable], config.schema, now, {
    intervalMs: config.rateLimit.pruneIntervalMs,
    batchSize: config.rateLimit.pruneBatchSize,
  });
  return new PostgresRateLimitStore(db, sql, now, pruner, clock);
}

/**
 * Waits until the client is ready, its first connection attempt fails, or `timeoutMs` passes. Without
 * an offline queue, calls made before the first connection would fail; after a failure the client
 * keeps reconnecting in the background and calls fail fast until it is back.
 */
function connected(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.once('ready', done);
    client.once('error', done);
  });
}
