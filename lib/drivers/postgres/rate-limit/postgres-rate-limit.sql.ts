import { FIT_EPSILON } from '../../../rate-limit/rate-limit-state.js';

/**
 * "Now" in epoch ms for a statement: the injected clock's value when `$2` is given, else the
 * database's statement time, so app servers with skewed clocks still agree. Stable within a
 * statement, so every use below sees the same instant.
 */
const NOW = `COALESCE($2::bigint, floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint)`;

/** "Fits" slack, the constant `rate-limit-state.ts` uses. */
const EPS = String(FIT_EPSILON);

/**
 * The columns every decision returns: the state after it, how many of its calls were granted, and
 * the time it was made at. A statement that waited on the row lock behind one stamped later counts
 * at the stored window's start, never before it (see `tableSql`).
 */
const DECISION = `window_start, used, prev_used, granted, GREATEST(${NOW}, window_start) AS now_ms`;

/**
 * How many of the `$6` calls of cost `$5` fit when `load` units are in use: as many as the room
 * under the limit holds, in order, at most `$6`; every one of them when the cost is 0. The same
 * result as deciding the calls one after the other, each seeing the one before it.
 */
function granted(load: string): string {
  return `(CASE WHEN $5::float8 = 0 THEN $6::int
                ELSE LEAST($6::int, GREATEST(0, floor(($3::float8 + ${EPS} - ${load}) / $5::float8)))::int END)`;
}

/**
 * Every statement on one counter table (`t`: schema-qualified, validated, quoted). Each decision is
 * one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`: a new key is inserted with the units of the
 * calls that fit; an existing one is decided on its locked, latest row version, so concurrent
 * decisions on one key queue on the row lock and each sees the one before it. One decision carries
 * `$6` calls of the same cost that arrived together (the service joins them); the first `granted`
 * of them fit and are taken, the rest are rejected. When none fits, the state is written back
 * unchanged (only rolled forward to now).
 *
 * In the upsert, `EXCLUDED.window_start` is the current window start (token bucket: now) and `r`
 * the stored row before this decision; SET expressions all read that old row.
 *
 * "Now" is taken when a statement starts, before it waits for the row lock, so a statement stamped
 * just before a window edge can get the lock after one stamped just after it and find a stored
 * window later than its own. It then counts in that later window (GREATEST below), as if made at
 * its start: treating the stored window as an old one would reset the counter and let a burst
 * through at the edge.
 *
 * Consume parameters: $1 key, $2 now (null for the database clock), $3 limit, $4 window ms, $5 cost
 * of each call, $6 number of calls (>= 1).
 */
function tableSql(t: string) {
  /** The window this call counts in: its own, or the stored one when that is later. */
  const windowStart = `GREATEST(r.window_start, EXCLUDED.window_start)`;
  /** Fixed window: units in use in the window this decision counts in (an earlier window counts as empty). */
  const fixedLoad = `(CASE WHEN r.window_start < EXCLUDED.window_start THEN 0 ELSE r.used END)`;
  /** Sliding window: the stored counts as they apply in the current window. */
  const current = `(CASE WHEN r.window_start >= EXCLUDED.window_start THEN r.used ELSE 0 END)`;
  const previous = `(CASE WHEN r.window_start >= EXCLUDED.window_start THEN r.prev_used
                          WHEN r.window_start = EXCLUDED.window_start - $4::bigint THEN r.used
                          ELSE 0 END)`;
  const elapsed = `GREATEST(0, ${NOW} - ${windowStart})`;
  const slidingLoad = `(${previous} * ($4::bigint - ${elapsed}) / $4::bigint + ${current})`;
  /** Token bucket: units still taken after refilling at limit/window per ms since the last decision. */
  const drained = `GREATEST(0, r.used - GREATEST(0, EXCLUDED.window_start - r.window_start) * $3::float8 / $4::bigint)`;
  /** A new key: nothing in use yet. */
  const fresh = granted('0');

  return {
    /**
     * Fixed window. A row from an earlier window counts as empty: this decision opens the new
     * window. The row stops mattering when its window ends.
     */
    fixedWindow: `
      INSERT INTO ${t} AS r (key, window_start, used, prev_used, granted, expires_at)
      SELECT $1, c.start, ${fresh} * $5::float8, 0, ${fresh}, c.start + $4::bigint
      FROM (SELECT n - n % $4::bigint AS start FROM (SELECT ${NOW} AS n) AS clock) AS c
      ON CONFLICT (key) DO UPDATE SET
        used = ${fixedLoad} + ${granted(fixedLoad)} * $5::float8,
        granted = ${granted(fixedLoad)},
        window_start = ${windowStart},
        expires_at = GREATEST(r.expires_at, EXCLUDED.expires_at)
      RETURNING ${DECISION}`,

    /**
     * Sliding window (two-window weighted counter): the previous window's count weighs what is left
     * of it, `prev * (window - elapsed) / window`, plus the current count. Rolling forward keeps the
     * current count as `prev_used` when exactly one window has passed. The row stops mattering one
     * full window after its window ends.
     */
    slidingWindow: `
      INSERT INTO ${t} AS r (key, window_start, used, prev_used, granted, expires_at)
      SELECT $1, c.start, ${fresh} * $5::float8, 0, ${fresh}, c.start + 2 * $4::bigint
      FROM (SELECT n - n % $4::bigint AS start FROM (SELECT ${NOW} AS n) AS clock) AS c
      ON CONFLICT (key) DO UPDATE SET
        used = ${current} + ${granted(slidingLoad)} * $5::float8,
        prev_used = ${previous},
        granted = ${granted(slidingLoad)},
        window_start = ${windowStart},
        expires_at = GREATEST(r.expires_at, EXCLUDED.expires_at)
      RETURNING ${DECISION}`,

    /**
     * Token bucket, stored as units taken: refill drains `used` linearly; a call fits when
     * `used + cost <= limit`. A clock that steps back refills nothing (GREATEST keeps the later
     * time). The row stops mattering once the bucket is full, at most one window after the last call.
     */
    tokenBucket: `
      INSERT INTO ${t} AS r (key, window_start, used, prev_used, granted, expires_at)
      SELECT $1, c.now, ${fresh} * $5::float8, 0, ${fresh}, c.now + $4::bigint
      FROM (SELECT ${NOW} AS now) AS c
      ON CONFLICT (key) DO UPDATE SET
        used = ${drained} + ${granted(drained)} * $5::float8,
        granted = ${granted(drained)},
        window_start = GREATEST(r.window_start, EXCLUDED.window_start),
        expires_at = GREATEST(r.window_start, EXCLUDED.window_start) + $4::bigint
      RETURNING ${DECISION}`,

    /** $1 key, $2 now (null for the database clock). The stored state, if any, and the time; writes nothing. */
    peek: `
      SELECT c.now AS now_ms, r.window_start, r.used, r.prev_used
      FROM (SELECT ${NOW} AS now) AS c LEFT JOIN ${t} AS r ON r.key = $1`,

    /**
     * $1 key, $2 window start of the consume being undone, $3 cost. Fixed window: gives the units
     * back only while that window is still the stored one.
     */
    refundFixedWindow: `
      UPDATE ${t} SET used = GREATEST(0, used - $3::float8)
      WHERE key = $1 AND window_start = $2::bigint`,

    /**
     * $1 key, $2 window start of the consume being undone, $3 cost, $4 window ms. Sliding window:
     * the units are in `used` while that window is current, in `prev_used` once the next one is.
     */
    refundSlidingWindow: `
      UPDATE ${t} SET
        used = CASE WHEN window_start = $2::bigint THEN GREATEST(0, used - $3::float8) ELSE used END,
        prev_used = CASE WHEN window_start = $2::bigint + $4::bigint THEN GREATEST(0, prev_used - $3::float8) ELSE prev_used END
      WHERE key = $1 AND window_start IN ($2::bigint, $2::bigint + $4::bigint)`,

    /** $1 key, $2 cost. Token bucket: puts the units back; refill since then is unaffected. */
    refundTokenBucket: `UPDATE ${t} SET used = GREATEST(0, used - $2::float8) WHERE key = $1`,

    /** $1 key. Forgets the counter. */
    reset: `DELETE FROM ${t} WHERE key = $1`,

    /**
     * $1 lock class, $2 lock key, $3 now (null for the database clock), $4 batch size. Deletes at
     * most $4 rows that no longer affect any decision, and only while this statement holds the prune
     * lock, so one process prunes at a time and the others skip. Rows locked by a decision in
     * flight are skipped, never waited on. Returns one row per deleted counter.
     */
    prune: `
      WITH lock AS (SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS held),
      doomed AS (
        SELECT key FROM ${t}
        WHERE (SELECT held FROM lock)
          AND expires_at <= COALESCE($3::bigint, floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint)
        LIMIT $4 FOR UPDATE SKIP LOCKED)
      DELETE FROM ${t} AS r USING doomed WHERE r.key = doomed.key
      RETURNING 1`,
  };
}

export type RateLimitTableSql = ReturnType<typeof tableSql>;

/** The statements for both counter tables of a schema (`s`: validated and quoted). */
export function rateLimitSql(s: string): { volatile: RateLimitTableSql; durable: RateLimitTableSql } {
  return { volatile: tableSql(`${s}.rate_limits`), durable: tableSql(`${s}.rate_limits_durable`) };
}
