import { systemClock } from '../../common/clock.js';
import { quoteIdentifier } from '../../core/config/identifiers.js';
import { migrate } from '../../core/migrations/migrator.js';
import type { BallastDriver } from '../ballast-driver.interface.js';
import { cacheMigrations } from './cache/postgres-cache.migrations.js';
import { PostgresCacheStore } from './cache/postgres-cache.store.js';
import { PostgresCacheSweeper } from './cache/postgres-cache.sweeper.js';
import { openPostgresJobStore } from './queue/open-postgres-job-store.js';
import { rateLimitMigrations } from './rate-limit/postgres-rate-limit.migrations.js';
import { PostgresRateLimitPruner } from './rate-limit/postgres-rate-limit.pruner.js';
import { rateLimitSql } from './rate-limit/postgres-rate-limit.sql.js';
import { PostgresRateLimitStore } from './rate-limit/postgres-rate-limit.store.js';

/**
 * Postgres, a server or PGlite: every service's tables in the module's schema, migrated under the
 * migration lock when the store opens, so processes booting together do it once.
 */
export const postgresDriver: BallastDriver = {
  async cache({ core, connections, config }) {
    const db = await connections.postgres();
    await migrate(db, core.schema, cacheMigrations);
    const quoted = quoteIdentifier(core.schema);
    const sweeper = new PostgresCacheSweeper(db, core.schema, quoted, core.clock, {
      intervalMs: config.sweepIntervalMs,
      batchSize: config.sweepBatchSize,
      maxEntries: config.maxEntries,
    });
    return new PostgresCacheStore(db, quoted, core.clock, sweeper);
  },

  async queue({ core, connections, config }) {
    const { store, wakeup } = await openPostgresJobStore(await connections.postgres(), core.schema, { durableEnqueue: config.durableEnqueue });
    return { kind: 'job-store', store, wakeup, label: `Postgres queue (schema "${core.schema}")` };
  },

  async rateLimit({ core, connections, config }) {
    const db = await connections.postgres();
    await migrate(db, core.schema, rateLimitMigrations);
    const sql = rateLimitSql(quoteIdentifier(core.schema));
    // With the system clock, "now" is the database's, so app servers with skewed clocks agree; an
    // injected clock (tests, simulations) is used as given.
    const clock = core.clock;
    const now = clock === systemClock ? () => null : () => clock.now();
    const pruner = new PostgresRateLimitPruner(db, [sql.volatile, sql.durable], core.schema, now, {
      intervalMs: config.pruneIntervalMs,
      batchSize: config.pruneBatchSize,
    });
    return new PostgresRateLimitStore(db, sql, now, pruner, clock);
  },
};
