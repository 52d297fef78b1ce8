import { Logger } from '@nestjs/common';
import { errorMessage } from '../../../common/error-message.js';
import { PeriodicTask } from '../../../common/periodic-task.js';
import type { SqlDatabase } from '../../../core/connections/sql-client.js';
import { BALLAST_LOCK_CLASS } from '../../../core/migrations/migrator.js';
import type { RateLimitTableSql } from './postgres-rate-limit.sql.js';

export interface RateLimitPrunerSettings {
  intervalMs: number;
  batchSize: number;
}

/** Upper bound on statements per table per run, so one run over a huge backlog stays bounded. */
const MAX_BATCHES_PER_RUN = 100;

/**
 * Deletes counters that no longer affect any decision, in bounded batches, from both tables. Runs on
 * an unref'd timer (it never keeps the process alive) and under a try-lock shared by every process
 * on the schema, so at most one prunes at a time. Pruning is housekeeping only: an expired row
 * decides exactly like a missing one, so a late prune changes no decision.
 */
export class PostgresRateLimitPruner {
  private readonly logger = new Logger('Ballast');
  private readonly lockKey: string;
  private readonly task: PeriodicTask;

  constructor(
    private readonly db: SqlDatabase,
    private readonly tables: readonly RateLimitTableSql[],
    schema: string,
    private readonly now: () => number | null,
    private readonly settings: RateLimitPrunerSettings,
  ) {
    this.lockKey = `rate-limit-prune:${schema}`;
    this.task = new PeriodicTask(this.settings.intervalMs, () => this.prune(), (error) =>
      this.logger.warn(`rate-limit prune failed: ${errorMessage(error)}`),
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One full run; resolves to the number of counters deleted. Public so tests and ops can trigger it. */
  async prune(): Promise<number> {
    let deleted = 0;
    for (const sql of this.tables) {
      for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
        const { rows } = await this.db.query(sql.prune, [BALLAST_LOCK_CLASS, this.lockKey, this.now(), this.settings.batchSize]);
        deleted += rows.length;
        if (rows.length < this.settings.batchSize) break;
      }
    }
    return deleted;
  }
}
