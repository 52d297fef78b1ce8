import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { RedisProtocolProviderName } from '../common/provider-name.js';
import type { BallastConfig } from '../config/ballast-config.js';
import { BALLAST_CONFIG } from '../ballast.constants.js';
import type { SqlDatabase } from './sql-client.js';
import { PgPoolDatabase } from './pg-pool.database.js';
import { PgliteDatabase } from './pglite.database.js';

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

  constructor(@Inject(BALLAST_CONFIG) private readonly config: BallastConfig) {}

  /** The Postgres backend (a pg pool or PGlite), opened once. */
  postgres(): Promise<SqlDatabase> {
    this.postgresDb ??= this.openPostgres();
    return this.postgresDb;
  }

  /** The ioredis client for `valkey` or `redis`, opened once. Config validation guarantees it is configured. */
  redis(provider: RedisProtocolProviderName): Redis {
    let entry = this.redisClients.get(provider);
    if (!entry) {
      const connection = this.config.redisProtocol[provider];
      if (!connection) throw new Error(`no ${provider} connection configured`);
      entry =
        connection.kind === 'client'
          ? { client: connection.client, owned: false }
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
    }
    return entry.client;
  }

  async onApplicationShutdown(): Promise<void> {
    const closing: Promise<unknown>[] = [];
    for (const { client, owned } of this.redisClients.values()) {
      if (!owned) continue;
      // QUIT lets queued replies arrive; a client that is not connected has nothing to wait for,
      // and QUIT would sit in its offline queue while it keeps reconnecting.
      if (client.status === 'ready') closing.push(client.quit().catch(() => client.disconnect()));
      else client.disconnect();
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
        return new PgPoolDatabase(connection.pool, false, connection.preparedStatements);
      case 'pglite':
        return new PgliteDatabase(connection.pglite, false);
      case 'embedded': {
        const { PGlite } = await import('@electric-sql/pglite');
        const db = await PGlite.create(connection.dataDir);
        this.logger.warn(
          `Using embedded Postgres (PGlite, ${connection.dataDir ? `data in ${connection.dataDir}` : 'in memory'}): ` +
            'single-process and meant for development. Set DATABASE_URL or postgres.connectionString for production.',
        );
        return new PgliteDatabase(db, true);
      }
    }
  }
}
