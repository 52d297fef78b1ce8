import { Logger } from '@nestjs/common';
import { errorMessage } from '../../../common/error-message.js';
import { PeriodicTask } from '../../../common/periodic-task.js';
import type { Clock } from '../../../common/clock.js';
import type { SqlDatabase } from '../../../core/connections/sql-client.js';
import { BALLAST_LOCK_CLASS } from '../../../core/migrations/migrator.js';
import { cacheSql, type CacheSql } from './postgres-cache.sql.js';

export interface CacheSweeperSettings {
  intervalMs: number;
  batchSize: number;
  maxEntries: number | undefined;
}

/**
 * Time one sweep may spend deleting expired rows while full batches keep coming back. A sweep that
 * runs out of it leaves the rest to the next sweep, which then comes after `CATCH_UP_PAUSE_MS`
 * instead of the full interval: under churn the sweeper keeps up by itself, in bounded slices that
 * leave the database room for other work.
 */
const SWEEP_BUDGET_MS = 2000;
const CATCH_UP_PAUSE_MS = 250;
/** Eviction statements per sweep at most (`maxEntries`). */
const MAX_EVICTION_BATCHES = 100;

/**
 * Deletes expired cache rows in bounded batches, for as long as full batches come back (within a
 * time budget per sweep, then again soon), and evicts the soonest-expiring rows past `maxEntries`.
 * Runs on an unref'd timer (it never keeps the process alive) and under a try-lock shared by every
 * process on the schema, so at most one sweeps at a time.
 */
export class PostgresCacheSweeper {
  private readonly logger = new Logger('Ballast');
  private readonly sql: CacheSql;
  private readonly lockKey: string;
  private readonly task: PeriodicTask;
  private stopping = false;
  private pause: NodeJS.Timeout | undefined;
  private endPause: (() => void) | undefined;

  constructor(
    private readonly db: SqlDatabase,
    schema: string,
    quotedSchema: string,
    private readonly clock: Clock,
    private readonly settings: CacheSweeperSettings,
  ) {
    this.sql = cacheSql(quotedSchema);
    this.lockKey = `cache-sweep:${schema}`;
    this.task = new PeriodicTask(this.settings.intervalMs, () => this.sweepAndCatchUp(), (error) =>
      this.logger.warn(`cache sweep failed: ${errorMessage(error)}`),
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    this.stopping = true;
    if (this.pause) clearTimeout(this.pause);
    this.endPause?.();
    return this.task.stop();
  }

  /**
   * One sweep; resolves to the rows it deleted (expired, evicted) and whether expired rows are left
   * because it ran out of its time budget. Public so tests and ops can trigger it.
   */
  async sweep(): Promise<{ expired: number; evicted: number; more: boolean }> {
    let expired = 0;
    let more = false;
    const until = Date.now() + SWEEP_BUDGET_MS;
    for (;;) {
      const { rows } = await this.db.query(this.sql.sweepExpired, [
        BALLAST_LOCK_CLASS,
        this.lockKey,
        new Date(this.clock.now()).toISOString(),
        this.settings.batchSize,
      ]);
      expired += rows.length;
      if (rows.length < this.settings.batchSize) break;
      if (Date.now() >= until) {
        more = true;
        break;
      }
    }
    let evicted = 0;
    const max = this.settings.maxEntries;
    if (max !== undefined) {
      for (let batch = 0; batch < MAX_EVICTION_BATCHES; batch++) {
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
    return { expired, evicted, more };
  }

  /** Sweeps, and again after a short pause for as long as a sweep ends with expired rows left. */
  private async sweepAndCatchUp(): Promise<void> {
    for (;;) {
      const { more } = await this.sweep();
      if (!more || this.stopping) return;
      await new Promise<void>((resolve) => {
        this.endPause = resolve;
        this.pause = setTimeout(resolve, CATCH_UP_PAUSE_MS);
        this.pause.unref();
      });
      this.pause = undefined;
      this.endPause = undefined;
      if (this.stopping) return;
    }
  }
}
