import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { Cluster, Redis } from 'ioredis';
import { UnsupportedOptionError } from '../../errors/unsupported-option.error.js';
import type { ProviderName, RedisProtocolProviderName } from '../../common/provider-name.js';
import { BALLAST_CORE_CONFIG, type BallastCoreConfig } from '../config/ballast-core-config.js';
import type { StoreHandle } from '../store-handle.js';
import type { SqlDatabase } from './sql-client.js';
import { PgPoolDatabase } from './pg-pool.database.js';
import { PgliteDatabase } from './pglite.database.js';
import { runBootStep } from './boot-step.js';
import { closeRedisClient } from './close-redis-client.js';
import type { StoreEndpoint } from './store-endpoint.js';

/**
 * One shared connection per backend for this module instance, opened on first use. On shutdown it
 * closes what it opened and leaves alone what the user passed in. It runs in
 * `onApplicationShutdown`, after services have stopped their workers in earlier hooks.
 */
@Injectable()
export class BallastConnections implements OnApplicationShutdown {
  private readonly logger = new Logger('Ballast');
  private postgresDb: Promise<SqlDatabase> | undefined;
  private readonly redisClients = new Map<RedisProtocolProviderName, { client: Redis; owned: boolean }>();

  constructor(@Inject(BALLAST_CORE_CONFIG) private readonly config: BallastCoreConfig) {}

  /** The Postgres backend (a pg pool or PGlite), opened once; a failed open is tried again next time. */
  postgres(): Promise<SqlDatabase> {
    this.postgresDb ??= this.openPostgres().catch((error: unknown) => {
      this.postgresDb = undefined;
      throw error;
    });
    return this.postgresDb;
  }

  /** The providers whose connection this registry has opened (or is opening), for health checks and tests. */
  openProviders(): ProviderName[] {
    return [...(this.postgresDb ? (['postgres'] as const) : []), ...this.redisClients.keys()];
  }

  /** Where a provider's store is and what configured it, for logs and errors (never a password). */
  endpoint(provider: ProviderName): StoreEndpoint {
    if (provider === 'postgres') return this.config.postgres.endpoint;
    const connection = this.config.redisProtocol[provider];
    return connection?.endpoint ?? { where: `no ${provider} connection`, source: provider === 'valkey' ? 'VALKEY_URL' : 'REDIS_URL' };
  }

  /**
   * Runs a boot step against a provider's store (connect, migrate, start workers) within
   * `bootTimeoutMs`, retrying while the store refuses connections; a failure becomes a
   * `BallastConnectionError` naming the store. The boot then fails, and Nest runs no shutdown hook
   * for an app that never finished booting: so every connection this registry opened is closed
   * here, and nothing of Ballast (a client reconnecting, an idle pooled session) keeps the process
   * alive after a failed boot.
   */
  async atBoot<T>(provider: ProviderName, what: string, step: () => Promise<T>): Promise<T> {
    try {
      return await runBootStep(provider, this.endpoint(provider), what, this.config.bootTimeoutMs, this.logger, step);
    } catch (error) {
      // Not awaited: a store that does not answer must not hold up the error that says so.
      void this.onApplicationShutdown();
      throw error;
    }
  }

  /**
   * Opens a service's store as a boot step (see `atBoot`): for Valkey/Redis, once the shared client
   * is connected. Opening an open store does nothing.
   */
  openAtBoot(store: StoreHandle<{ close(): Promise<void> }>, what: string): Promise<void> {
    const { provider } = store;
    if (store.current) return Promise.resolve();
    return this.atBoot(provider, what, async () => {
      if (provider !== 'postgres') await this.redisReady(provider);
      await store.ready();
    });
  }

  /** Resolves once the provider's shared client is connected; rejects on its next connection error. */
  redisReady(provider: RedisProtocolProviderName): Promise<void> {
    const client = this.redis(provider);
    if (client.status === 'ready') return Promise.resolve();
    // A user's client made with `lazyConnect` waits for a first command; ask it to connect now.
    if (client.status === 'wait') client.connect().catch(() => undefined);
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: unknown) => {
        client.off('ready', onReady);
        client.off('error', onError);
        client.off('end', onEnd);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onReady = () => settle();
      const onError = (error: unknown) => settle(error ?? new Error('connection failed'));
      const onEnd = () => settle(new Error('the connection was closed'));
      client.on('ready', onReady);
      client.on('error', onError);
      client.on('end', onEnd);
    });
  }

  /** The ioredis client for `valkey` or `redis`, opened once. Config validation guarantees it is configured. */
  redis(provider: RedisProtocolProviderName): Redis {
    let entry = this.redisClients.get(provider);
    if (!entry) {
      const connection = this.config.redisProtocol[provider];
      if (!connection) throw new Error(`no ${provider} connection configured`);
      if (connection.kind === 'client' && connection.client instanceof Cluster) {
        throw new UnsupportedOptionError(provider, `${provider}.client`, 'the services do not run on a Redis Cluster yet; pass a single-node ioredis client or a url');
      }
      entry =
        connection.kind === 'client'
          ? { client: connection.client as Redis, owned: false }
          : {
              client: new Redis(connection.url, {
                // Fail a command after one reconnect attempt instead of queueing it for ever;
                // callers have their own timeouts and failure policies.
                maxRetriesPerRequest: 1,
                connectionName: 'ballast',
              }),
              owned: true,
            };
      // An owned client reports errors through its callers; without a listener ioredis would print each one.
      if (entry.owned) entry.client.on('error', () => undefined);
      this.redisClients.set(provider, entry);
      this.logger.log(`${provider === 'valkey' ? 'Valkey' : 'Redis'}: ${connection.endpoint.where} (${connection.endpoint.source}), keys under "${this.config.keyPrefix}"`);
    }
    return entry.client;
  }

  async onApplicationShutdown(): Promise<void> {
    const closing: Promise<unknown>[] = [];
    for (const { client, owned } of this.redisClients.values()) {
      if (owned) closing.push(closeRedisClient(client));
    }
    this.redisClients.clear();
    if (this.postgresDb) {
      closing.push(this.postgresDb.then((db) => db.close()).catch(() => undefined));
      this.postgresDb = undefined;
    }
    await Promise.all(closing);
  }

  private async openPostgres(): Promise<SqlDatabase> {
    const connection = this.config.postgres;
    const { where, source } = connection.endpoint;
    // Every mode says once where the data lives.
    if (connection.kind !== 'embedded') this.logger.log(`Postgres: ${where} (${source}), schema "${this.config.schema}"`);
    switch (connection.kind) {
      case 'url': {
        const pool = new pg.Pool({
          connectionString: connection.connectionString,
          max: connection.poolSize,
          application_name: 'ballast',
        });
        // Idle clients that die (server restart) emit on the pool; the next query gets a fresh one.
        pool.on('error', () => undefined);
        return new PgPoolDatabase(pool, true, connection.preparedStatements);
      }
      case 'pool':
        // The one place a user's pool meets the driver's type: `PostgresPool` is the part of it we call.
        return new PgPoolDatabase(connection.pool as pg.Pool, false, connection.preparedStatements);
      case 'pglite':
        return new PgliteDatabase(connection.pglite, false);
      case 'embedded': {
        // A service opened on first use in production, with nothing configured: refused as at boot.
        if (connection.refusal) throw connection.refusal;
        const { PGlite } = await import('@electric-sql/pglite');
        const db = await PGlite.create(connection.dataDir);
        this.logger.warn(
          connection.dataDir
            ? `Postgres: embedded PGlite, data in ${connection.dataDir} (${source}): one process only, meant for development. ` +
                'Set DATABASE_URL or postgres.connectionString for production.'
            : `Postgres: embedded PGlite in memory (${source}): everything Ballast stores (jobs, cache, counters) is lost when this ` +
                'process exits. Set DATABASE_URL for a server, or BALLAST_PGLITE_DIR to keep the data in a directory.',
        );
        return new PgliteDatabase(db, true);
      }
    }
  }
}
