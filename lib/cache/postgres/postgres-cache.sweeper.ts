import { Logger } from '@nestjs/common';
import { errorMessage } from '../../common/error-message.js';
import { PeriodicTask } from '../../common/periodic-task.js';
import type { Clock } from '../../common/clock.js';
import type { SqlDatabase } from '../../connections/sql-client.js';
import { BALLAST_LOCK_CLASS } from '../../migrations/migrator.js';
import { cacheSql, type CacheSql } from './postgres-cache.sql.js';

export interface CacheSweeperSettings {
  intervalMs: number;
  batchSize: number;
  maxEntries: number | undefined;
}

/** Upper bound on statements per sweep, so one sweep of a huge backlog cannot run unbounded. */
const MAX_BATCHES_PER_SWEEP = 100;

/**
 * Deletes expired cache rows in bounded batches, and evicts the soonest-expiring rows past
 * `maxEntries`. Runs on an unref'd timer (it never keeps the process alive) and under a try-lock
 * shared by every process on the schema, so at most one sweeps at a time.
 */
export class PostgresCacheSweeper {
  private readonly logger = new Logger('Ballast');
  private readonly sql: CacheSql;
  private readonly lockKey: string;
  private readonly task: PeriodicTask;

  constructor(
    private readonly db: SqlDatabase,
    schema: string,
    quotedSchema: string,
    private readonly clock: Clock,
    private readonly settings: CacheSweeperSettings,
  ) {
    this.sql = cacheSql(quotedSchema);
    this.lockKey = `cache-sweep:${schema}`;
    this.task = new PeriodicTask(this.settings.intervalMs, () => this.sweep(), (error) =>
      this.logger.warn(`cache sweep failed: ${errorMessage(error)}`),
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One full sweep; resolves to the rows it deleted (expired, evicted). Public so tests and ops can trigger it. */
  async sweep(): Promise<{ expired: number; evicted: number }> {
    let expired = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_SWEEP; batch++) {
      const { rows } = await this.db.query(this.sql.sweepExpired, [
        BALLAST_LOCK_CLASS,
        this.lockKey,
        new Date(this.clock.now()).toISOString(),
        this.settings.batchSize,
      ]);
      expired += rows.length;
      if (rows.length < this.settings.batchSize) break;
    }
    let evicted = 0;
    const max = this.settings.maxEntries;
    if (max !== undefined) {
      for (let batch = 0; batch < MAX_BATCHES_PER_SWEEP; batch++) {
        const { rows: counted } = await this.db.query<{ n: number }>(this.sql.count);
        const excess = (counted[0]?.n ?? 0) - max;
        if (excess <= 0) break;
        const { rows } = await this.db.query(this.sql.evictOldest, [
          BALLAST_LOCK_CLASS,
          this.lockKey,
          Math.min(excess, this.settings.batchSize),
        ]);
        evicted += rows.length;
        if (rows.length === 0) break;
      }
    }
    return { expired, evicted };
  }
}
