/**
 * Every statement of the Postgres cache, built once per schema. `s` is the validated, quoted schema
 * name. Expiry is an absolute timestamp computed from the injected clock, so "now" is always a
 * parameter ($now below) and tests can move time. A row whose `expires_at` has passed is invisible to
 * every read at once, whether or not the sweeper has deleted it yet.
 */
export function cacheSql(s: string) {
  const table = `${s}.cache_entries`;
  const live = `(expires_at IS NULL OR expires_at > $2)`;
  return {
    /** $1 key, $2 now. The JSON text of a live entry, or no row. */
    get: `SELECT value::text AS value FROM ${table} WHERE key = $1 AND ${live}`,

    /** $1 keys text[], $2 now. Live entries among the keys, in any order. */
    getMany: `SELECT key, value::text AS value FROM ${table} WHERE key = ANY($1::text[]) AND ${live}`,

    /** $1 key, $2 JSON text, $3 expires_at (null for none). Insert or overwrite in one statement. */
    set: `INSERT INTO ${table} (key, value, expires_at) VALUES ($1, $2::json, $3)
          ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,

    /**
     * $1 keys text[], $2 JSON texts text[], $3 expiries timestamptz[] (null entries for none), all the
     * same length and with distinct keys (ON CONFLICT cannot touch one row twice). One round trip.
     */
    setMany: `INSERT INTO ${table} (key, value, expires_at)
              SELECT key, value::json, expires_at FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS t(key, value, expires_at)
              ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,

    /** $1 key, $2 now. Deletes the row, expired or not; `live` tells whether readers could still see it. */
    delete: `DELETE FROM ${table} WHERE key = $1 RETURNING (expires_at IS NULL OR expires_at > $2) AS live`,

    /** $1 key, $2 now. A row when the entry is live. */
    has: `SELECT 1 AS one FROM ${table} WHERE key = $1 AND ${live}`,

    /** $1 key, $2 now. Remaining ms (null when the entry never expires), or no row. */
    ttl: `SELECT (extract(epoch FROM expires_at - $2::timestamptz) * 1000)::float8 AS remaining_ms
          FROM ${table} WHERE key = $1 AND ${live}`,

    /** Empties the table. TRUNCATE frees the space at once, and the table holds only this namespace. */
    clear: `TRUNCATE ${table}`,

    /**
     * $1 lock class, $2 lock key, $3 now, $4 batch size. Deletes at most $4 expired rows, and only if
     * this statement holds the sweep lock, so one process sweeps at a time and the others skip. Rows
     * locked by writers are skipped, never waited on. Returns the number deleted.
     */
    sweepExpired: `WITH lock AS (SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS held),
                   doomed AS (
                     SELECT key FROM ${table}
                     WHERE (SELECT held FROM lock) AND expires_at <= $3
                     LIMIT $4 FOR UPDATE SKIP LOCKED)
                   DELETE FROM ${table} c USING doomed WHERE c.key = doomed.key
                   RETURNING 1`,

    /** Entry count, for the `maxEntries` bound. */
    count: `SELECT count(*)::int AS n FROM ${table}`,

    /**
     * $1 lock class, $2 lock key, $3 how many to evict (at most one batch). Deletes the entries that
     * expire soonest, entries without expiry last, under the same sweep lock.
     */
    evictOldest: `WITH lock AS (SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS held),
                  doomed AS (
                    SELECT key FROM ${table}
                    WHERE (SELECT held FROM lock)
                    ORDER BY expires_at ASC NULLS LAST
                    LIMIT $3 FOR UPDATE SKIP LOCKED)
                  DELETE FROM ${table} c USING doomed WHERE c.key = doomed.key
                  RETURNING 1`,
  };
}

export type CacheSql = ReturnType<typeof cacheSql>;
