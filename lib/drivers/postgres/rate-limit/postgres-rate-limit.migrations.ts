import type { Migration } from '../../../core/migrations/migration.js';

/**
 * Columns of both counter tables. `window_start`, `used` and `prev_used` hold a `RateLimitState`;
 * `allowed` was the verdict of the last decision; migration 2 replaces it by `granted`, how many of
 * its calls fit, so the single upsert can return it; `expires_at`
 * (epoch ms) is when the row no longer affects any decision and the pruner may delete it.
 */
const COUNTER_COLUMNS = `(
  key          text             PRIMARY KEY,
  window_start bigint           NOT NULL,
  used         double precision NOT NULL,
  prev_used    double precision NOT NULL DEFAULT 0,
  allowed      boolean          NOT NULL,
  expires_at   bigint           NOT NULL
) WITH (fillfactor = 70)`;

/**
 * Schema of the Postgres rate limiter, append-only. Two tables of one shape: `rate_limits` is
 * UNLOGGED (writes skip the WAL; Postgres empties it after a crash, which resets the counters, an
 * acceptable loss for abuse protection), `rate_limits_durable` is logged, for `durable: true`
 * policies whose counters must survive a crash.
 *
 * No index on `expires_at`: most decisions rewrite it, and an index on it would turn each of them
 * into a non-HOT update that also writes the primary key index. The pruner scans instead, in
 * bounded batches. `fillfactor` leaves room on each page for those HOT updates.
 */
export const rateLimitMigrations: readonly Migration[] = [
  {
    service: 'rate-limit',
    version: 1,
    name: 'create rate_limits and rate_limits_durable',
    statements: (s) => [
      `CREATE UNLOGGED TABLE ${s}.rate_limits ${COUNTER_COLUMNS}`,
      `CREATE TABLE ${s}.rate_limits_durable ${COUNTER_COLUMNS}`,
    ],
  },
  {
    service: 'rate-limit',
    version: 2,
    name: 'decisions for several calls at once',
    statements: (s) => [
      // Calls on one key that arrive together are decided by one statement; it returns how many of
      // them fit. A column with a constant default is added without rewriting the table.
      `ALTER TABLE ${s}.rate_limits ADD COLUMN granted integer NOT NULL DEFAULT 0`,
      `ALTER TABLE ${s}.rate_limits_durable ADD COLUMN granted integer NOT NULL DEFAULT 0`,
      // `granted > 0` is the verdict; keeping `allowed` too would cost every decision one more evaluation.
      `ALTER TABLE ${s}.rate_limits DROP COLUMN allowed`,
      `ALTER TABLE ${s}.rate_limits_durable DROP COLUMN allowed`,
    ],
  },
];
