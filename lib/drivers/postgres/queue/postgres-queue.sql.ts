/**
 * Every statement of the Postgres queue, built once per schema. `s` is the validated, quoted schema
 * name. Time is the server's `now()` throughout, so leases compare on one clock whatever the clocks
 * of the worker processes say; only an explicit `runAt` comes from the caller.
 *
 * A job is claimed only by an UPDATE that gives it a fresh `lock_token` and a lease in the same
 * statement, and every later write of a worker (completion, failure, renewal, hand-back) matches
 * that token, so a worker that lost its lease can no longer change the job. Statements that make
 * jobs ready send `pg_notify` in the same statement, so the notification leaves exactly when (and
 * only if) the jobs are committed. Statements that must run their notify CTE end in a one-row
 * SELECT that references it.
 */
export function queueSql(s: string) {
  const jobs = `${s}.queue_jobs`;
  const groups = `${s}.queue_groups`;
  const releases = `${s}.queue_group_releases`;
  const ms = (column: string) => `(${column} * interval '1 millisecond')`;
  // Notify payloads carry a wait relative to the statement's own clock, so a worker's clock skew
  // cannot delay (or hasten) a wake-up.
  const waitMs = (column: string) => `greatest(0, ceil(extract(epoch FROM ${column} - now()) * 1000))::bigint::text`;
  // A public id is a caller's key (never all digits) or a generated id; the caller passes one, the other null.
  const byPublicId = `queue = $1 AND (job_key = $2 OR (job_key IS NULL AND id = $3::bigint))`;
  // Joined into the worker's own writes (claims, outcomes, leases, hand-backs, reaper, pruner), and
  // into enqueues when `durableEnqueue` is off: the statement's commit does not wait for the WAL
  // flush. A worker write lost to a database crash only means a job runs again (its claim, outcome
  // or hand-back is undone and its lease runs out), which the at-least-once contract allows.
  const asyncCommit = `(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit`;
  type Commit = 'durable' | 'async';
  /** A job as `getJob` and `getJobs` report it; a due delayed job reads as waiting. */
  const jobColumns = `coalesce(job_key, id::text) AS id, queue, name, data::text AS data,
                    CASE WHEN state = 'delayed' AND run_at <= now() THEN 'waiting' ELSE state END AS state,
                    priority, attempts_made, max_attempts,
                    (extract(epoch FROM created_at) * 1000)::float8 AS created_at,
                    (extract(epoch FROM run_at) * 1000)::float8 AS run_at,
                    (extract(epoch FROM finished_at) * 1000)::float8 AS finished_at,
                    result::text AS result, error_message, error_stack, progress::text AS progress`;
  // A listed job's sort key, exact (timestamps as text keep their microseconds), for the next cursor.
  const pageKey = `priority AS k_priority, run_at AS k_run_at, id AS k_id, run_at::text AS key_run_at,
                   finished_at::text AS key_finished_at, id::text AS key_id`;
  // One statement per state, the state a literal: a partial index serves only a query whose state
  // the planner can see, also in the generic plan of a prepared statement.
  const listByRunAt = (state: 'delayed' | 'active') =>
    `SELECT ${jobColumns}, ${pageKey} FROM ${jobs}
     WHERE queue = $1 AND state = '${state}'${state === 'delayed' ? ' AND run_at > now()' : ''}
       AND (run_at, id) > ($2::timestamptz, $3::bigint)
     ORDER BY run_at, id LIMIT $4::int + 1`;
  const listFinished = (state: 'completed' | 'failed' | 'cancelled') =>
    `SELECT ${jobColumns}, ${pageKey} FROM ${jobs}
     WHERE queue = $1 AND state = '${state}' AND (finished_at, id) < ($2::timestamptz, $3::bigint)
     ORDER BY finished_at DESC, id DESC LIMIT $4::int + 1`;
  /**
   * A CTE, `given`, that gives back the concurrency slots of jobs that stopped running: one row per
   * key into queue_group_releases, from the rows (queue, concurrency_key) the named CTEs returned.
   * An insert only, so it waits on no claim; jobs without a key add nothing. The worker that wrote
   * the outcome claims again once it is applied (it has room now), so no notification is needed,
   * but for a hand-back's (the worker may be stopping; see `release`) and the reaper's (see `reap`).
   */
  const giveBack = (...ended: string[]) =>
    `given AS (
       INSERT INTO ${releases} (queue, key, n)
       SELECT queue, concurrency_key, count(*) FROM (
         ${ended.map((cte) => `SELECT queue, concurrency_key FROM ${cte}`).join(' UNION ALL ')}
       ) AS ended
       WHERE concurrency_key <> '' GROUP BY queue, concurrency_key
       RETURNING queue
     )`;
  /** What a claim's UPDATE returns of each job it claimed. */
  const claimedColumns = `j.id, j.job_key, j.name, j.data, j.priority, j.run_at, j.attempts_made, j.max_attempts,
                        j.timeout_ms, j.run_timeout_ms, j.backoff_type, j.backoff_delay, j.backoff_jitter, j.lock_token,
                        j.keep_completed, j.scheduled_for, j.retry_laters, j.concurrency_key`;
  /** A claimed job as the claims return it (from `claimed`). */
  const claimRow = `id::text AS id, coalesce(job_key, id::text) AS public_id, name, data::text AS data,
                   attempts_made, max_attempts, timeout_ms, run_timeout_ms, backoff_type, backoff_delay, backoff_jitter, retry_laters,
                   lock_token::text AS token, keep_completed IS NOT DISTINCT FROM 0 AS drop_result,
                   (extract(epoch FROM scheduled_for) * 1000)::float8 AS scheduled_for, concurrency_key <> '' AS keyed`;
  /** The claims' row saying "jobs with a concurrency key wait": `claimRow`'s columns, all null. */
  const claimSentinel = `NULL::text, NULL::text, NULL::text, NULL::text, NULL::int, NULL::int, NULL::int, NULL::int, NULL::text,
                        NULL::int, NULL::real, NULL::int, NULL::text, NULL::boolean, NULL::float8, NULL::boolean`;
  /**
   * The end of both claims: the jobs in `picked` (id, claim order n) become active under a fresh
   * token and lease, one more attempt counted, the first $3 started; then the claimed rows, in
   * order, after the "keyed jobs wait" row when the WHERE that follows holds.
   */
  const claimedAndSentinel = `claimed AS (
              UPDATE ${jobs} j
              SET state = 'active', attempts_made = j.attempts_made + 1, lock_token = gen_random_uuid(),
                  locked_until = now() + ${ms('j.timeout_ms')}, started = picked.n <= $3::int
              FROM picked, ${asyncCommit}
              WHERE j.id = picked.id
              RETURNING ${claimedColumns}, picked.n
            )
            SELECT * FROM (
              SELECT ${claimRow}, n FROM claimed
              UNION ALL
              SELECT ${claimSentinel}, 0 AS n`;
  /** Reaper: the expired job had started and has already stalled as often as allowed. */
  const overStalls = `(j.started AND j.stalls >= $7::int)`;
  /** The finished states, as the finished-jobs indexes (`queue_jobs_finished`, `queue_jobs_keep_count`) name them. */
  const finished = `('completed', 'failed', 'cancelled')`;
  /**
   * The columns of a job that ends `cancelled` (in an UPDATE of `j`): finished now, out of its
   * debounce or throttle key, kept by its failed-job retention.
   */
  const endCancelled = `state = 'cancelled', finished_at = now(), lock_token = NULL, locked_until = NULL, cancel_requested = false,
                 dedupe_key = NULL, keep_count = j.keep_failed, purge_at = now() + ${ms('j.keep_failed_ms')}`;

  /**
   * $1 the jobs as a JSON array of objects keyed by column (`queue`, `name`, `data`, `run_at`,
   * `priority`, `max_attempts`, `backoff_type`, `backoff_delay`, `backoff_jitter`, `job_key`,
   * `timeout_ms`, `run_timeout_ms`, `keep_completed`, `keep_completed_ms`, `keep_failed`, `keep_failed_ms`,
   * `concurrency_key`; an absent key is null), $2 channel. `data` is the job's JSON as a string, read as text and cast once:
   * measured here, letting json_to_recordset build each jsonb itself took twice as long. A `run_at`
   * in the past is stored as now (greatest() skips nulls), so it never jumps ahead of jobs already
   * waiting. One text parameter, because encoding thousands of jobs as JSON costs the client a
   * fraction of what fifteen typed arrays do. Inserts every job whose key is free, in one
   * statement; a job whose (queue, key) exists, or repeats in the input, is skipped and nothing of
   * it is written. Returns `ids`: the id drawn for each input job, in input order (meaningful
   * for jobs without a key), and `created`: the ids of the jobs with a key that this statement
   * inserted (a keyed job not among them existed already; a job without a key is always inserted,
   * and leaving those out keeps a bulk of thousands from sending its ids twice). Notifies each queue
   * once, with the wait until its earliest new job is due.
   */
  const add = (commit: Commit) =>
    `WITH input AS (
       SELECT nextval('${s}.queue_jobs_id_seq') AS id, t.*
       FROM ROWS FROM (json_to_recordset($1::json) AS (
              queue text, name text, data text, run_at timestamptz, priority int, max_attempts int, backoff_type text,
              backoff_delay int, backoff_jitter real, job_key text, timeout_ms int, run_timeout_ms int,
              keep_completed int, keep_completed_ms bigint, keep_failed int, keep_failed_ms bigint, concurrency_key text))
            WITH ORDINALITY AS t(queue, name, data, run_at, priority, max_attempts, backoff_type, backoff_delay,
                                 backoff_jitter, job_key, timeout_ms, run_timeout_ms, keep_completed,
                                 keep_completed_ms, keep_failed, keep_failed_ms, concurrency_key, ord)
     ),
     inserted AS (
       INSERT INTO ${jobs} (id, queue, job_key, name, data, state, priority, run_at, max_attempts, backoff_type,
                            backoff_delay, backoff_jitter, timeout_ms, run_timeout_ms, keep_completed,
                            keep_completed_ms, keep_failed, keep_failed_ms, concurrency_key)
       SELECT id, queue, job_key, name, data::jsonb, CASE WHEN run_at > now() THEN 'delayed' ELSE 'waiting' END,
              priority, greatest(run_at, now()), max_attempts, backoff_type, backoff_delay, backoff_jitter,
              timeout_ms, run_timeout_ms, keep_completed, keep_completed_ms, keep_failed, keep_failed_ms,
              coalesce(concurrency_key, '')
       FROM input${commit === 'async' ? `, ${asyncCommit}` : ''}
       ON CONFLICT (queue, job_key) WHERE job_key IS NOT NULL DO NOTHING
       RETURNING id, job_key, queue, run_at
     ),
     notified AS (
       SELECT pg_notify($2, ${waitMs('min(run_at)')} || '|' || queue) FROM inserted GROUP BY queue
     )
     SELECT ARRAY(SELECT id::text FROM input ORDER BY ord) AS ids,
            ARRAY(SELECT id::text FROM inserted WHERE job_key IS NOT NULL) AS created,
            (SELECT count(*) FROM notified)::int AS notified`;

  /**
   * `add` for one job, with the columns as scalar parameters: $1 queue, $2 name, $3 JSON data,
   * $4 run_at (null = now), $5 priority, $6 max attempts, $7 backoff type, $8 backoff delay,
   * $9 jitter, $10 job key (null = generated), $11 lease ms, $12 keep_completed,
   * $13 keep_completed_ms, $14 keep_failed, $15 keep_failed_ms, $16 run timeout ms (null = none),
   * $17 concurrency key ('' for none), $18 channel. A statement this short
   * costs a fraction of the bulk form to parse, plan and encode, and one job per call is the common
   * case. Returns the id drawn, or no row when the job's key exists (nothing is written then).
   */
  const addOne = (commit: Commit) =>
    `WITH inserted AS (
       INSERT INTO ${jobs} (queue, job_key, name, data, state, priority, run_at, max_attempts, backoff_type,
                            backoff_delay, backoff_jitter, timeout_ms, keep_completed, keep_completed_ms,
                            keep_failed, keep_failed_ms, run_timeout_ms, concurrency_key)
       SELECT $1, $10, $2, $3::jsonb, CASE WHEN $4::timestamptz > now() THEN 'delayed' ELSE 'waiting' END,
              $5, greatest($4::timestamptz, now()), $6, $7, $8, $9, $11, $12, $13, $14, $15, $16, $17
       ${commit === 'async' ? `FROM ${asyncCommit}` : ''}
       ON CONFLICT (queue, job_key) WHERE job_key IS NOT NULL DO NOTHING
       RETURNING id, queue, run_at
     )
     SELECT id::text AS id, pg_notify($18, ${waitMs('run_at')} || '|' || queue) FROM inserted`;

  /** The columns `addOne` takes as $1..$17, as the SELECT list of an insert (id and dedupe key apart). */
  const newJobValues = `$1, $10, $2, $3::jsonb, CASE WHEN $4::timestamptz > now() THEN 'delayed' ELSE 'waiting' END,
              $5, greatest($4::timestamptz, now()), $6, $7, $8, $9, $11, $12, $13, $14, $15, $16, $17`;
  const newJobColumns = `queue, job_key, name, data, state, priority, run_at, max_attempts, backoff_type,
                         backoff_delay, backoff_jitter, timeout_ms, keep_completed, keep_completed_ms,
                         keep_failed, keep_failed_ms, run_timeout_ms, concurrency_key`;
  /** Unfinished jobs, the only ones a debounce or throttle key names (see `queue_jobs_dedupe`). */
  const pendingKeyed = `dedupe_key IS NOT NULL AND state IN ('waiting', 'delayed', 'active')`;

  /**
   * `addOne` under a `unique` key: $1..$17 as there, $18 channel, $19 the key, $20 how long it
   * holds (ms). The key row and the job are written by one statement, so a key is never held
   * without its job (or the reverse). A key that is free, or whose window has ended, is taken for
   * the job drawn here; a key still held is left as it is (updated to itself, which locks it and
   * reads its latest committed holder even when a concurrent add took it after this statement's
   * snapshot). The job is inserted only if this statement took the key (and its `jobId` is free).
   * Returns `created` (the job inserted, or null) and `holder` (the public id the key names).
   */
  const addUnique = `WITH drawn AS (SELECT nextval('${s}.queue_jobs_id_seq') AS id),
     held AS (
       INSERT INTO ${s}.queue_unique_keys AS k (queue, key, job_id, expires_at)
       SELECT $1, $19, coalesce($10, drawn.id::text), now() + ${ms('$20::bigint')} FROM drawn
       ON CONFLICT (queue, key) DO UPDATE
         SET job_id = CASE WHEN k.expires_at <= now() THEN EXCLUDED.job_id ELSE k.job_id END,
             expires_at = CASE WHEN k.expires_at <= now() THEN EXCLUDED.expires_at ELSE k.expires_at END
       RETURNING job_id
     ),
     inserted AS (
       INSERT INTO ${jobs} (id, ${newJobColumns})
       SELECT drawn.id, ${newJobValues}
       FROM drawn JOIN held ON held.job_id = coalesce($10, drawn.id::text)
       ON CONFLICT (queue, job_key) WHERE job_key IS NOT NULL DO NOTHING
       RETURNING id, queue, run_at
     ),
     notified AS (SELECT pg_notify($18, ${waitMs('run_at')} || '|' || queue) FROM inserted)
     SELECT (SELECT coalesce($10, id::text) FROM inserted) AS created, (SELECT job_id FROM held) AS holder,
            (SELECT count(*) FROM notified)::int AS notified`;

  /**
   * `addOne` under a debounce or throttle key: $1..$17 as there ($4 is the run time the mode
   * set), $18 channel, $19 the key, $20 true for debounce. One unfinished job per (queue, key):
   * - no such job: this one is inserted (`created`);
   * - debounce, the job waits (waiting or delayed): it takes this add's name, data, priority,
   *   run time and concurrency key, so it runs once, later, with the latest data (`replaced`);
   * - throttle: the job is left as it is (updated to itself, to lock it and return it whatever the
   *   snapshot) and this add is dropped;
   * - debounce, the job runs: no row comes back; the caller frees the key from the running job
   *   (`releaseKey`) and adds again, so data that came in mid-run gets a run of its own.
   * The row lock of the conflicting job orders concurrent adds and claims: an add that waited for
   * a claim sees the job active. Returns the job's public id and whether it was inserted.
   */
  const addKeyed = `WITH upserted AS (
       INSERT INTO ${jobs} AS j (${newJobColumns}, dedupe_key)
       SELECT ${newJobValues}, $19
       ON CONFLICT (queue, dedupe_key) WHERE ${pendingKeyed}
       DO UPDATE SET
         name     = CASE WHEN $20::boolean THEN EXCLUDED.name ELSE j.name END,
         data     = CASE WHEN $20::boolean THEN EXCLUDED.data ELSE j.data END,
         priority = CASE WHEN $20::boolean THEN EXCLUDED.priority ELSE j.priority END,
         run_at   = CASE WHEN $20::boolean THEN EXCLUDED.run_at ELSE j.run_at END,
         state    = CASE WHEN $20::boolean THEN EXCLUDED.state ELSE j.state END,
         concurrency_key = CASE WHEN $20::boolean THEN EXCLUDED.concurrency_key ELSE j.concurrency_key END
       WHERE NOT $20::boolean OR j.state <> 'active'
       RETURNING id, queue, run_at, coalesce(job_key, id::text) AS public_id, (xmax = 0) AS created
     ),
     notified AS (SELECT pg_notify($18, ${waitMs('run_at')} || '|' || queue) FROM upserted WHERE $20::boolean OR created)
     SELECT public_id AS id, created, (SELECT count(*) FROM notified)::int AS notified FROM upserted`;

  const schedules = `${s}.queue_schedules`;
  // A due time compared exactly and whatever the session's DateStyle: epoch microseconds.
  const micros = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::bigint`;
  const scheduleColumns = `id, queue, name, source, timing::text AS timing, catch_up, job::text AS job,
                           (extract(epoch FROM next_run_at) * 1000)::float8 AS next_run_at`;

  return {
    addUnique,
    addKeyed,

    /**
     * $1 limit. At most $1 schedules whose next tick is due, oldest first, with the due time as
     * exact text (`due`, for the compare-and-set of `advanceSchedules`) and the server's clock
     * (`now_ms`), so every process computes ticks on one clock. Locks nothing.
     */
    dueSchedules: `SELECT id, timing::text AS timing, catch_up, ${micros('next_run_at')}::text AS due,
                          (extract(epoch FROM next_run_at) * 1000)::float8 AS due_ms,
                          (extract(epoch FROM now()) * 1000)::float8 AS now_ms
                   FROM ${schedules} WHERE next_run_at <= now() ORDER BY next_run_at, id LIMIT $1`,

    /**
     * Ms until the next schedule is due (0 when one is), or null with no schedules: greatest()
     * alone skips the null of an empty min() and answers 0, which had the scheduler of every process
     * with workers pass again at once, two statements per turn, for as long as no schedule existed.
     */
    nextScheduleWait: `SELECT (CASE WHEN min(next_run_at) IS NULL THEN NULL
                                ELSE greatest(0, ceil(extract(epoch FROM min(next_run_at) - now()) * 1000)) END)::float8 AS wait_ms
                       FROM ${schedules}`,

    /**
     * $1 JSON array of { id, due, tick, next } (due: the due time `dueSchedules` read, in epoch
     * microseconds; tick: the tick to enqueue, or null to skip; next: the next due time), $2
     * channel. Each schedule whose next_run_at is still `due` moves on to `next`, and in the same
     * statement its tick job is inserted (waiting, carrying the tick in scheduled_for). A schedule
     * another process moved on first, or that was removed or changed meanwhile, matches nothing:
     * its tick is enqueued once, by whoever moved it. A schedule another process is moving right
     * now is skipped, not waited for (it moves it), so replicas never queue up on each other's
     * rows. Returns how many moved and how many jobs went in.
     */
    advanceSchedules: `WITH input AS (
         SELECT * FROM json_to_recordset($1::json) AS t(id text, due bigint, tick timestamptz, next timestamptz)
       ),
       mine AS (
         SELECT s.id FROM ${schedules} s JOIN input i ON s.id = i.id AND ${micros('s.next_run_at')} = i.due
         ORDER BY s.id FOR UPDATE OF s SKIP LOCKED
       ),
       advanced AS (
         UPDATE ${schedules} s SET next_run_at = i.next, last_tick_at = coalesce(i.tick, s.last_tick_at), updated_at = now()
         FROM input i, mine WHERE s.id = i.id AND s.id = mine.id
         RETURNING s.queue, s.name, s.job, i.tick
       ),
       inserted AS (
         INSERT INTO ${jobs} (queue, name, data, state, priority, run_at, max_attempts, backoff_type, backoff_delay,
                              backoff_jitter, timeout_ms, run_timeout_ms, keep_completed, keep_completed_ms,
                              keep_failed, keep_failed_ms, scheduled_for, concurrency_key)
         SELECT a.queue, a.name, t.data::jsonb, 'waiting', t.priority, now(), t.max_attempts, t.backoff_type,
                t.backoff_delay, t.backoff_jitter, t.timeout_ms, t.run_timeout_ms, t.keep_completed,
                t.keep_completed_ms, t.keep_failed, t.keep_failed_ms, a.tick, coalesce(t.concurrency_key, '')
         FROM advanced a, jsonb_to_record(a.job) AS t(
                data text, priority int, max_attempts int, backoff_type text, backoff_delay int, backoff_jitter real,
                timeout_ms int, run_timeout_ms int, keep_completed int, keep_completed_ms bigint, keep_failed int,
                keep_failed_ms bigint, concurrency_key text)
         WHERE a.tick IS NOT NULL
         RETURNING queue
       ),
       notified AS (SELECT pg_notify($2, '0|' || queue) FROM inserted GROUP BY queue)
       SELECT (SELECT count(*) FROM advanced)::int AS advanced, (SELECT count(*) FROM inserted)::int AS enqueued,
              (SELECT count(*) FROM notified)::int AS notified`,

    /**
     * $1 id, $2 queue, $3 name, $4 source, $5 timing JSON, $6 catch_up, $7 job JSON, $8 first due
     * time. Creates the schedule, or updates it in place; its next due time is kept unless the
     * timing changed (a changed data or option applies from the next tick on).
     */
    upsertSchedule: `INSERT INTO ${schedules} AS s (id, queue, name, source, timing, catch_up, job, next_run_at)
                     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8::timestamptz)
                     ON CONFLICT (id) DO UPDATE SET
                       queue = EXCLUDED.queue, name = EXCLUDED.name, source = EXCLUDED.source, catch_up = EXCLUDED.catch_up,
                       job = EXCLUDED.job, timing = EXCLUDED.timing, updated_at = now(),
                       next_run_at = CASE WHEN s.timing = EXCLUDED.timing THEN s.next_run_at ELSE EXCLUDED.next_run_at END`,

    /** $1 id. Deletes the schedule; returns a row if there was one. */
    removeSchedule: `DELETE FROM ${schedules} WHERE id = $1 RETURNING 1`,

    /**
     * $1 the schedule ids of a process's handlers, $2 the ids it declares. Deletes the `@Job`
     * schedules among $1 not in $2: a handler whose schedule was removed from the code. Returns
     * their ids.
     */
    removeStaleCodeSchedules: `DELETE FROM ${schedules} WHERE source = 'code' AND id = ANY($1::text[]) AND NOT (id = ANY($2::text[]))
                               RETURNING id`,

    /** $1 lock class, $2 lock key. Serializes reconciliations of one schema's schedules (held to commit). */
    lockSchedules: `SELECT pg_advisory_xact_lock($1, hashtext($2))`,

    /** $1 queue or null for all. Every schedule, by id. */
    listSchedules: `SELECT ${scheduleColumns} FROM ${schedules} WHERE $1::text IS NULL OR queue = $1 ORDER BY id`,

    /**
     * $1 queue, $2 key. Frees a debounce or throttle key from the job that runs under it, so a new
     * add may take it; the running job finishes (or retries) without a key.
     */
    releaseKey: `UPDATE ${jobs} SET dedupe_key = NULL WHERE queue = $1 AND dedupe_key = $2 AND state = 'active'`,

    /**
     * $1 lock class, $2 lock key, $3 batch size. Under the prune try-lock, deletes at most $3
     * `unique` keys whose window has ended (an add would replace them anyway). Returns how many.
     */
    pruneUniqueKeys: `WITH lock AS (SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS held),
                      doomed AS (
                        SELECT queue, key FROM ${s}.queue_unique_keys
                        WHERE (SELECT held FROM lock) AND expires_at <= now()
                        ORDER BY expires_at LIMIT $3 FOR UPDATE SKIP LOCKED
                      ),
                      gone AS (
                        DELETE FROM ${s}.queue_unique_keys k USING doomed, ${asyncCommit}
                        WHERE k.queue = doomed.queue AND k.key = doomed.key AND k.expires_at <= now() RETURNING 1
                      )
                      SELECT count(*)::int AS deleted FROM gone`,

    /** Enqueue with a durable commit: the default, and always inside a caller's transaction (its durability is theirs). */
    add: add('durable'),
    addOne: addOne('durable'),
    /** Enqueue whose commit does not wait for the WAL flush (`durableEnqueue: false`, like Redis with `appendfsync everysec`). */
    addAsync: add('async'),
    addOneAsync: addOne('async'),

    /**
     * $1 queue, $2 limit, $3 how many start at once. The claim of a queue without concurrency keys
     * (see `claimKeyed` for one with): at most $2 waiting jobs without a key, by priority, then the
     * time they became ready, then id; a row locked by another worker is skipped, never waited on,
     * and nothing is claimed while the queue is paused. In the same statement each claimed job
     * becomes active with a fresh token, a lease of its own timeout and one more attempt counted.
     * The first $3 are `started` (their handlers run at once); the rest wait in the worker's
     * buffer, and are marked started by a lease renewal if they run that long: only a started job
     * counts a stall when its lease runs out. Rows come back in claim order. Delayed jobs are
     * claimable once `promote` has made them waiting. When jobs with a key wait in the queue, a
     * first row with a null id says so (one index probe), and the caller claims with
     * `claimKeyed` from then on. Measured here: this statement takes two thirds of the time of
     * `claimKeyed` on a queue without keys, so queues that never use keys keep it.
     */
    claim: `WITH picked AS (
              SELECT id, row_number() OVER (ORDER BY priority, run_at, id) AS n FROM (
                SELECT id, priority, run_at FROM ${jobs}
                WHERE queue = $1 AND state = 'waiting' AND concurrency_key = ''
                  AND NOT EXISTS (SELECT 1 FROM ${s}.queue_paused WHERE queue = $1)
                ORDER BY priority, run_at, id
                LIMIT $2 FOR UPDATE SKIP LOCKED
              ) AS ready
            ),
            ${claimedAndSentinel}
              WHERE EXISTS (SELECT 1 FROM ${jobs} WHERE queue = $1 AND state = 'waiting' AND concurrency_key > '')
            ) AS rows ORDER BY n`,

    /**
     * $1 queue, $2 limit, $3 how many start at once. The claim of a queue whose jobs may have
     * concurrency keys. Claims at most $2 waiting jobs of queue $1; a
     * row locked by another worker is skipped, never waited on, and nothing is claimed while the
     * queue is paused. Jobs without a concurrency key come by priority, then the time they became
     * ready, then id. A job with a key is claimed only while its key runs fewer than its limit, in
     * any number of processes: the key's row is locked first (a key another claim holds is skipped
     * for this once), its given-back slots are folded in, and as many of its jobs are taken as it
     * has slots free, the count written back in the same statement. Keys take turns: the least
     * recently served go first, and every key's first job comes before any key's second. In the
     * same statement each claimed job becomes active with a fresh token, a lease of its own timeout
     * and one more attempt counted. The first $3 are `started` (their handlers run at once); the
     * rest wait in the worker's buffer, and are marked started by a lease renewal if they run that
     * long: only a started job counts a stall when its lease runs out. Rows come back in claim
     * order. Delayed jobs are claimable once `promote` has made them waiting. While jobs with a key
     * wait, a first row with a null id says so (the caller keeps using this statement).
     */
    claimKeyed: `WITH RECURSIVE
            unpaused AS (SELECT NOT EXISTS (SELECT 1 FROM ${s}.queue_paused WHERE queue = $1) AS open),
            -- The distinct keys with waiting jobs, one index probe each (a deep backlog of one key is
            -- stepped over, not read).
            ready_keys (key) AS (
              (SELECT concurrency_key FROM ${jobs}
               WHERE queue = $1 AND state = 'waiting' AND concurrency_key > '' AND (SELECT open FROM unpaused)
               ORDER BY concurrency_key LIMIT 1)
              UNION ALL
              SELECT (SELECT concurrency_key FROM ${jobs}
                      WHERE queue = $1 AND state = 'waiting' AND concurrency_key > r.key
                      ORDER BY concurrency_key LIMIT 1)
              FROM ready_keys r WHERE r.key IS NOT NULL
            ),
            -- Their rows with a slot free, locked, the least recently served first. A key that
            -- looks full in this snapshot is left alone (not even locked): the worker that frees
            -- its slot claims again once its write is applied (a hand-back or the reaper notifies).
            -- The lock reads each row's newest committed count whatever the snapshot says, and
            -- checks the filter again on it: a claim that took the slot a moment ago is counted.
            -- The filter is a shortcut only; \`slots\` below counts exactly.
            groups AS MATERIALIZED (
              SELECT g.key, g.max_active, g.active FROM ready_keys r JOIN ${groups} g ON g.queue = $1 AND g.key = r.key
              WHERE g.active - (SELECT coalesce(sum(r.n), 0) FROM ${releases} r WHERE r.queue = $1 AND r.key = g.key) < g.max_active
              ORDER BY g.served_at, g.key
              LIMIT $2 FOR UPDATE OF g SKIP LOCKED
            ),
            -- Slots given back since the last claim of each locked key. A row another claim folded
            -- after this snapshot is not deleted (nor counted) twice; one not yet visible waits for
            -- the next claim, which only makes this one take fewer.
            freed AS (
              DELETE FROM ${releases} r USING groups g WHERE r.queue = $1 AND r.key = g.key
              RETURNING r.key, r.n
            ),
            slots AS (
              SELECT g.key, g.max_active, g.active - coalesce(f.n, 0)::int AS active
              FROM groups g LEFT JOIN (SELECT key, sum(n) AS n FROM freed GROUP BY key) AS f ON f.key = g.key
            ),
            share AS (SELECT ceil($2::numeric / greatest(count(*), 1))::int AS n FROM slots WHERE active < max_active),
            keyed AS (
              SELECT k.id, k.priority, k.run_at, k.turn, s.key
              FROM slots s, share, LATERAL (
                SELECT x.id, x.priority, x.run_at, row_number() OVER (ORDER BY x.priority, x.run_at, x.id) AS turn FROM (
                  SELECT id, priority, run_at FROM ${jobs}
                  WHERE queue = $1 AND state = 'waiting' AND concurrency_key = s.key
                  ORDER BY priority, run_at, id
                  LIMIT least(s.max_active - s.active, share.n) FOR UPDATE SKIP LOCKED
                ) AS x
              ) AS k
              WHERE s.active < s.max_active
            ),
            unkeyed AS (
              SELECT id, priority, run_at FROM ${jobs}
              WHERE queue = $1 AND state = 'waiting' AND concurrency_key = '' AND (SELECT open FROM unpaused)
              ORDER BY priority, run_at, id
              LIMIT $2 FOR UPDATE SKIP LOCKED
            ),
            picked AS (
              SELECT id, key, n FROM (
                SELECT id, key, row_number() OVER (ORDER BY priority, turn, run_at, id) AS n FROM (
                  SELECT id, priority, run_at, 1::bigint AS turn, '' AS key FROM unkeyed
                  UNION ALL SELECT id, priority, run_at, turn, key FROM keyed
                ) AS candidates
              ) AS ranked
              WHERE n <= $2
            ),
            counted AS (
              UPDATE ${groups} g
              SET active = s.active + coalesce(t.n, 0)::int, served_at = CASE WHEN t.n IS NULL THEN g.served_at ELSE now() END
              FROM slots s LEFT JOIN (SELECT key, count(*) AS n FROM picked WHERE key <> '' GROUP BY key) AS t ON t.key = s.key
              -- A key that neither gave slots back nor got jobs is left unwritten.
              WHERE g.queue = $1 AND g.key = s.key AND (t.n IS NOT NULL OR s.active <> g.active)
              RETURNING 1
            ),
            ${claimedAndSentinel} WHERE EXISTS (SELECT 1 FROM ready_keys WHERE key IS NOT NULL)
            ) AS rows ORDER BY n`,

    /**
     * $1 JSON array of { queue, key, limit }, sorted by queue then key. Creates the row of each
     * concurrency key before its first job goes in (a job whose key has no row is never claimed),
     * and sets the limit of a key whose limit changed. Rows that exist and agree are neither
     * written nor locked, so adds never wait on claims.
     */
    ensureGroups: `WITH input AS (SELECT * FROM json_to_recordset($1::json) AS t(queue text, key text, "limit" int)),
                   created AS (
                     INSERT INTO ${groups} (queue, key, max_active)
                     SELECT queue, key, "limit" FROM input ORDER BY queue, key
                     ON CONFLICT (queue, key) DO NOTHING
                     RETURNING 1
                   ),
                   changed AS (
                     UPDATE ${groups} g SET max_active = i."limit"
                     FROM input i WHERE g.queue = i.queue AND g.key = i.key AND g.max_active <> i."limit"
                     RETURNING 1
                   )
                   SELECT (SELECT count(*) FROM created)::int AS created, (SELECT count(*) FROM changed)::int AS changed`,

    /**
     * $1 queue, $2 batch size, $3 channel. Makes at most $2 delayed jobs of queue $1 whose time has
     * come waiting (skipping rows others hold), and notifies the queue if it moved any. Returns how
     * many it moved and, with `ceil`, how long until the next delayed job it left is due (0 if one is
     * due already, null if none).
     */
    promote: `WITH due AS (
                SELECT id FROM ${jobs}
                WHERE queue = $1 AND state = 'delayed' AND run_at <= now()
                ORDER BY run_at LIMIT $2 FOR UPDATE SKIP LOCKED
              ),
              moved AS (
                UPDATE ${jobs} j SET state = 'waiting'
                FROM due, ${asyncCommit}
                WHERE j.id = due.id
                RETURNING 1
              ),
              notified AS (SELECT pg_notify($3, '0|' || $1::text) WHERE EXISTS (SELECT 1 FROM moved))
              SELECT (SELECT count(*) FROM moved)::int AS moved, (SELECT count(*) FROM notified)::int AS notified,
                     -- Over every delayed job this statement did not move: one left due (past the
                     -- batch, or held by another promoter) gives 0, so the worker promotes again at
                     -- once; none gives null (greatest() alone would turn that null into 0).
                     (SELECT (CASE WHEN min(run_at) IS NULL THEN NULL ELSE greatest(0, ceil(extract(epoch FROM min(run_at) - now()) * 1000)) END)::bigint::text
                      FROM ${jobs} WHERE queue = $1 AND state = 'delayed' AND id NOT IN (SELECT id FROM due)) AS next_wait_ms`,

    /**
     * $1 ids, $2 tokens, $3 result JSON texts (null entries for none). Completes the jobs whose
     * token still matches, in one statement: removed at once when their retention says so, else
     * marked completed with their result and an age deadline. Returns the ids it applied; a job
     * whose lease was lost is absent and unchanged.
     */
    complete: `WITH done AS (SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[]) AS d(id, token, result)),
               removed AS (
                 DELETE FROM ${jobs} j USING done, ${asyncCommit}
                 WHERE j.id = done.id AND j.lock_token = done.token AND j.keep_completed = 0
                 RETURNING j.id, j.queue, j.concurrency_key
               ),
               kept AS (
                 UPDATE ${jobs} j
                 SET state = 'completed', result = done.result::jsonb, finished_at = now(), lock_token = NULL,
                     locked_until = NULL, cancel_requested = false, keep_count = j.keep_completed,
                     purge_at = now() + ${ms('j.keep_completed_ms')}
                 FROM done, ${asyncCommit}
                 WHERE j.id = done.id AND j.lock_token = done.token AND j.keep_completed IS DISTINCT FROM 0
                 RETURNING j.id, j.queue, j.concurrency_key
               ),
               ${giveBack('removed', 'kept')}
               SELECT id::text AS id FROM removed UNION ALL SELECT id::text AS id FROM kept`,

    /**
     * $1 ids, $2 tokens, $3 retry delays in ms (null entries: no retry left), $4 error messages,
     * $5 error stacks, $6 channel, $7 deferrals (null, 'rate-limited' or 'retry-later'). Records
     * failed attempts whose token still matches: a job with a retry goes back to waiting (delay 0)
     * or delayed until now + delay, keeping the error (a deferred one instead gets its attempt back
     * and keeps its earlier error, a `retry-later` counted in retry_laters); one
     * without becomes failed (the dead letter) with its error, or is removed when its retention says
     * so. Queues that got jobs back are notified. Returns the ids applied per outcome.
     */
    fail: `WITH f AS (
             SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::int[], $4::text[], $5::text[], $7::text[])
               AS f(id, token, retry_ms, message, stack, deferred)
           ),
           -- Each job whose lease still matches, locked, with its cancel mark as committed now: a
           -- cancel that committed after this statement began is seen here (the lock waits for it
           -- and reads the newest row). The branches below decide on these values, not on the row
           -- as the statement's snapshot had it, so a failure racing a cancel ends the job cancelled
           -- instead of matching no branch and leaving it active.
           l AS (
             SELECT j.id, j.cancel_requested, j.keep_failed IS NOT DISTINCT FROM 0 AS keep_none
             FROM ${jobs} j JOIN f ON j.id = f.id AND j.lock_token = f.token
             FOR UPDATE OF j
           ),
           retried AS (
             UPDATE ${jobs} j
             SET state = CASE WHEN f.retry_ms > 0 THEN 'delayed' ELSE 'waiting' END,
                 run_at = now() + ${ms('f.retry_ms')}, lock_token = NULL, locked_until = NULL,
                 attempts_made = CASE WHEN f.deferred IS NULL THEN j.attempts_made ELSE greatest(j.attempts_made - 1, 0) END,
                 retry_laters = j.retry_laters + CASE WHEN f.deferred = 'retry-later' THEN 1 ELSE 0 END,
                 error_message = CASE WHEN f.deferred IS NULL THEN f.message ELSE j.error_message END,
                 error_stack = CASE WHEN f.deferred IS NULL THEN f.stack ELSE j.error_stack END
             FROM f JOIN l ON l.id = f.id, ${asyncCommit}
             WHERE j.id = f.id AND f.retry_ms IS NOT NULL AND NOT l.cancel_requested
             RETURNING j.id, j.queue, j.run_at, j.concurrency_key
           ),
           removed AS (
             DELETE FROM ${jobs} j USING f JOIN l ON l.id = f.id, ${asyncCommit}
             WHERE j.id = f.id AND (f.retry_ms IS NULL OR l.cancel_requested) AND l.keep_none
             RETURNING j.id, l.cancel_requested, j.queue, j.concurrency_key
           ),
           dead AS (
             UPDATE ${jobs} j
             SET state = 'failed', finished_at = now(), lock_token = NULL, locked_until = NULL,
                 error_message = f.message, error_stack = f.stack, dedupe_key = NULL,
                 keep_count = j.keep_failed, purge_at = now() + ${ms('j.keep_failed_ms')}
             FROM f JOIN l ON l.id = f.id, ${asyncCommit}
             WHERE j.id = f.id AND f.retry_ms IS NULL AND NOT l.cancel_requested AND NOT l.keep_none
             RETURNING j.id, j.queue, j.concurrency_key
           ),
           cancelled AS (
             UPDATE ${jobs} j SET ${endCancelled}, error_message = f.message, error_stack = f.stack
             FROM f JOIN l ON l.id = f.id, ${asyncCommit}
             WHERE j.id = f.id AND l.cancel_requested AND NOT l.keep_none
             RETURNING j.id, j.queue, j.concurrency_key
           ),
           ${giveBack('retried', 'removed', 'dead', 'cancelled')},
           notified AS (
             SELECT pg_notify($6, ${waitMs('min(run_at)')} || '|' || queue) FROM retried GROUP BY queue
           )
           SELECT ARRAY(SELECT id::text FROM retried) AS retried,
                  ARRAY(SELECT id::text FROM removed WHERE NOT cancel_requested UNION ALL SELECT id::text FROM dead) AS failed,
                  ARRAY(SELECT id::text FROM removed WHERE cancel_requested UNION ALL SELECT id::text FROM cancelled) AS cancelled,
                  (SELECT count(*) FROM notified)::int AS notified`,

    /**
     * $1 ids, $2 tokens, $3 started flags. Extends the lease of each job whose token still matches
     * by its own timeout from now. Returns the ids renewed, each with whether its job has been
     * cancelled (the worker's fallback when it missed the notification); a missing id means the
     * lease was lost.
     */
    renew: `UPDATE ${jobs} j SET locked_until = now() + ${ms('j.timeout_ms')}, started = j.started OR r.started
            FROM unnest($1::bigint[], $2::uuid[], $3::boolean[]) AS r(id, token, started), ${asyncCommit}
            WHERE j.id = r.id AND j.lock_token = r.token
            RETURNING j.id::text AS id, j.cancel_requested`,

    /**
     * $1 id, $2 token, $3 progress JSON text. Stores a running job's progress while its token still
     * matches (a worker that lost the job writes nothing). Returns a row if it did.
     */
    progress: `UPDATE ${jobs} SET progress = $3::jsonb WHERE id = $1::bigint AND lock_token = $2::uuid RETURNING 1 AS one`,

    /**
     * $1 ids, $2 tokens, $3 channel. Hands claimed jobs back (shutdown, pause): each job whose token
     * still matches is waiting again at once, keeping its place, and the attempt it was claimed for
     * is not counted; a job cancelled meanwhile ends `cancelled` instead. Notifies so another worker
     * takes them. Returns how many went back.
     */
    release: `WITH back AS (
                UPDATE ${jobs} j
                SET state = CASE WHEN j.cancel_requested THEN 'cancelled' ELSE 'waiting' END,
                    attempts_made = greatest(j.attempts_made - 1, 0), lock_token = NULL, locked_until = NULL,
                    cancel_requested = false,
                    finished_at = CASE WHEN j.cancel_requested THEN now() END,
                    dedupe_key = CASE WHEN j.cancel_requested THEN NULL ELSE j.dedupe_key END,
                    keep_count = CASE WHEN j.cancel_requested THEN j.keep_failed END,
                    purge_at = CASE WHEN j.cancel_requested THEN now() + ${ms('j.keep_failed_ms')} END
                FROM unnest($1::bigint[], $2::uuid[]) AS r(id, token), ${asyncCommit}
                WHERE j.id = r.id AND j.lock_token = r.token
                RETURNING j.queue, j.state, j.concurrency_key
              ),
              ${giveBack('back')},
              -- Also for a key's slot given back: the worker handing back may be stopping.
              notified AS (SELECT pg_notify($3, '0|' || queue) FROM back WHERE state = 'waiting' OR concurrency_key <> '' GROUP BY queue)
              SELECT (SELECT count(*) FROM back)::int AS released, (SELECT count(*) FROM notified)::int AS notified`,

    /**
     * $1 lock class, $2 lock key, $3 queue, $4 batch size, $5 error message, $6 channel, $7 max
     * stalls. Only while this statement holds the reap try-lock (so one process reaps a queue at a
     * time; others skip): at most $4 active jobs of $3 whose lease has expired (their worker died or
     * hung) lose their claim and get back the attempt they were claimed for (a crash is not the
     * job's failure). A job whose handler had started counts a stall: within $7 stalls it waits
     * again, past $7 it is failed with $5 as its error. A job that never started (it sat in a dead
     * worker's buffer) waits again with nothing counted. A job cancelled while it ran ends
     * `cancelled` (by its failed-job retention) rather than running again. Queue $3 is notified
     * when jobs went back. Returns each reaped job.
     */
    reap: `WITH lock AS (SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS held),
           expired AS (
             SELECT id, stalls FROM ${jobs}
             WHERE (SELECT held FROM lock) AND queue = $3 AND state = 'active' AND locked_until < now()
             ORDER BY locked_until
             LIMIT $4 FOR UPDATE SKIP LOCKED
           ),
           reaped AS (
             UPDATE ${jobs} j
             SET state = CASE WHEN j.cancel_requested THEN 'cancelled' WHEN ${overStalls} THEN 'failed' ELSE 'waiting' END,
                 stalls = j.stalls + CASE WHEN j.started THEN 1 ELSE 0 END,
                 attempts_made = CASE WHEN j.cancel_requested OR ${overStalls} THEN j.attempts_made ELSE greatest(j.attempts_made - 1, 0) END,
                 lock_token = NULL, locked_until = NULL, started = false, cancel_requested = false,
                 error_message = CASE WHEN j.cancel_requested THEN j.error_message WHEN ${overStalls} THEN $5 ELSE j.error_message END,
                 error_stack = CASE WHEN j.cancel_requested OR NOT ${overStalls} THEN j.error_stack END,
                 dedupe_key = CASE WHEN j.cancel_requested THEN NULL ELSE j.dedupe_key END,
                 finished_at = CASE WHEN j.cancel_requested OR ${overStalls} THEN now() END,
                 keep_count = CASE WHEN j.cancel_requested OR ${overStalls} THEN j.keep_failed END,
                 purge_at = CASE WHEN j.cancel_requested OR ${overStalls} THEN now() + ${ms('j.keep_failed_ms')} END
             FROM expired, ${asyncCommit} WHERE j.id = expired.id
             RETURNING coalesce(j.job_key, j.id::text) AS id, j.name, j.state, j.attempts_made, j.stalls > expired.stalls AS stalled,
                       j.queue, j.concurrency_key
           ),
           ${giveBack('reaped')},
           -- Jobs back in the queue, or slots of a dead worker's keys given back: claims may take them.
           notified AS (
             SELECT pg_notify($6, '0|' || $3::text)
             WHERE EXISTS (SELECT 1 FROM reaped WHERE state = 'waiting') OR EXISTS (SELECT 1 FROM given)
           )
           SELECT (SELECT count(*) FROM notified)::int AS notified,
                  coalesce((SELECT json_agg(json_build_object('id', r.id, 'name', r.name, 'state', r.state,
                                                      'attempts_made', r.attempts_made, 'stalled', r.stalled))
                            FROM reaped r), '[]'::json)::text AS reaped`,

    /** $1 queue, $2 key or null, $3 generated id or null. The job as `getJob` reports it; a due delayed job reads as waiting. */
    getJob: `SELECT ${jobColumns} FROM ${jobs} WHERE ${byPublicId}`,

    /**
     * $1 queue, $2 priority, $3 run_at, $4 id: the sort key of the last job of the previous page
     * (-1, '-infinity', 0 for the first), $5 page size. The next waiting jobs in the order workers
     * take them (priority, then the time they became ready, then id), delayed jobs already due
     * included (they read as waiting, as in `getJob`), each branch an index range scan. Returns one
     * row more than asked when there are more.
     */
    listWaiting: `SELECT * FROM (
                    (SELECT ${jobColumns}, ${pageKey} FROM ${jobs}
                     WHERE queue = $1 AND state = 'waiting' AND concurrency_key = ''
                       AND (priority, run_at, id) > ($2::int, $3::timestamptz, $4::bigint)
                     ORDER BY priority, run_at, id LIMIT $5::int + 1)
                    UNION ALL
                    -- Jobs with a concurrency key: the index orders them per key, so this branch sorts.
                    (SELECT ${jobColumns}, ${pageKey} FROM ${jobs}
                     WHERE queue = $1 AND state = 'waiting' AND concurrency_key > ''
                       AND (priority, run_at, id) > ($2::int, $3::timestamptz, $4::bigint)
                     ORDER BY priority, run_at, id LIMIT $5::int + 1)
                    UNION ALL
                    (SELECT ${jobColumns}, ${pageKey} FROM ${jobs}
                     WHERE queue = $1 AND state = 'delayed' AND run_at <= now() AND (priority, run_at, id) > ($2::int, $3::timestamptz, $4::bigint)
                     ORDER BY priority, run_at, id LIMIT $5::int + 1)
                  ) AS page ORDER BY k_priority, k_run_at, k_id LIMIT $5::int + 1`,

    /**
     * $1 queue, $2 run_at, $3 id (the previous page's last key; '-infinity', 0 for the first), $4
     * page size. The next delayed jobs whose time is still to come (due ones list as waiting), by
     * run time then id. One row more than asked when there are more.
     */
    listDelayed: listByRunAt('delayed'),
    /** As `listDelayed`, for running jobs. */
    listActive: listByRunAt('active'),
    /**
     * $1 queue, $2 finished_at, $3 id (the previous page's last key; 'infinity' and the largest id
     * for the first), $4 page size. The next finished jobs of the state, newest first, from the
     * finished-jobs index. One row more than asked when there are more.
     */
    listCompleted: listFinished('completed'),
    listFailed: listFinished('failed'),
    listCancelled: listFinished('cancelled'),

    /** $1 queue. Jobs per state, each count from its own partial index; due delayed jobs count as waiting. */
    counts: `SELECT
               (SELECT count(*) FROM ${jobs} WHERE queue = $1 AND state = 'waiting')::int
                 + (SELECT count(*) FROM ${jobs} WHERE queue = $1 AND state = 'delayed' AND run_at <= now())::int AS waiting,
               (SELECT count(*) FROM ${jobs} WHERE queue = $1 AND state = 'delayed' AND run_at > now())::int AS delayed,
               (SELECT count(*) FROM ${jobs} WHERE queue = $1 AND state = 'active')::int AS active,
               (SELECT count(*) FROM ${jobs} WHERE queue = $1 AND state = 'completed')::int AS completed,
               (SELECT count(*) FROM ${jobs} WHERE queue = $1 AND state = 'failed')::int AS failed,
               (SELECT count(*) FROM ${jobs} WHERE queue = $1 AND state = 'cancelled')::int AS cancelled`,

    /**
     * $1 queue, $2 key or null, $3 generated id or null, $4 channel. Moves one failed job back to
     * waiting with a fresh attempt budget and no error, and notifies. Returns a row if it did. A
     * retried job leaves its debounce or throttle key behind: a pending job may hold that key now,
     * and two retried jobs of one key would both claim it (`queue_jobs_dedupe`).
     */
    retry: `WITH moved AS (
              UPDATE ${jobs}
              SET state = 'waiting', attempts_made = 0, stalls = 0, retry_laters = 0, run_at = now(), finished_at = NULL, keep_count = NULL, dedupe_key = NULL,
                  purge_at = NULL, result = NULL, error_message = NULL, error_stack = NULL
              WHERE ${byPublicId} AND state = 'failed'
              RETURNING queue
            )
            SELECT pg_notify($4, '0|' || queue) FROM moved`,

    /**
     * $1 queue, $2 batch size, $3 channel, $4 cutoff (null on the first batch: this statement's
     * time). Moves at most $2 jobs of the queue that failed no later than the cutoff back to waiting
     * (as `retry` does), skipping rows other writers hold, and notifies. Returns how many, and the
     * cutoff to pass to the next batch, so jobs that fail again meanwhile are not retried again.
     */
    retryFailedBatch: `WITH cutoff AS (SELECT coalesce($4::timestamptz, statement_timestamp()) AS at),
                       batch AS (
                         SELECT id FROM ${jobs} WHERE queue = $1 AND state = 'failed' AND finished_at <= (SELECT at FROM cutoff)
                         LIMIT $2 FOR UPDATE SKIP LOCKED
                       ),
                       moved AS (
                         UPDATE ${jobs} j
                         SET state = 'waiting', attempts_made = 0, stalls = 0, retry_laters = 0, run_at = now(), finished_at = NULL, keep_count = NULL, dedupe_key = NULL,
                             purge_at = NULL, result = NULL, error_message = NULL, error_stack = NULL
                         FROM batch WHERE j.id = batch.id
                         RETURNING j.id
                       ),
                       notified AS (SELECT pg_notify($3, '0|' || $1::text) WHERE EXISTS (SELECT 1 FROM moved))
                       SELECT (SELECT count(*) FROM moved)::int AS moved, (SELECT count(*) FROM notified)::int AS notified,
                              (SELECT at FROM cutoff)::text AS cutoff`,

    /** $1 queue, $2 key or null, $3 generated id or null. Deletes the job unless it is running; a row if it did. */
    remove: `DELETE FROM ${jobs} WHERE ${byPublicId} AND state <> 'active' RETURNING 1 AS one`,

    /**
     * $1 queue, $2 key or null, $3 generated id or null, $4 channel. One UPDATE, so it acts on the
     * job's latest committed state even when a worker claims it at the same moment: a waiting or
     * delayed job ends `cancelled` (finished now, out of its debounce or throttle key, kept by its
     * failed-job retention); a running one is marked `cancel_requested`, and the worker holding it
     * is notified (`c|<row id>|<queue>`) to abort it. Returns the job's state after the statement
     * (`cancelled` or `active`), its row id and whether its retention keeps no failed jobs (the
     * caller then deletes it); or no state, with `found` saying whether the job exists (finished).
     */
    cancel: `WITH target AS (
               UPDATE ${jobs} j SET
                 state = CASE WHEN j.state = 'active' THEN 'active' ELSE 'cancelled' END,
                 cancel_requested = (j.state = 'active'),
                 finished_at = CASE WHEN j.state = 'active' THEN NULL ELSE now() END,
                 dedupe_key = CASE WHEN j.state = 'active' THEN j.dedupe_key END,
                 keep_count = CASE WHEN j.state = 'active' THEN NULL ELSE j.keep_failed END,
                 purge_at = CASE WHEN j.state = 'active' THEN NULL ELSE now() + ${ms('j.keep_failed_ms')} END
               WHERE ${byPublicId} AND state IN ('waiting', 'delayed', 'active')
               RETURNING j.id, j.queue, j.state, j.keep_failed IS NOT DISTINCT FROM 0 AS drop_now
             ),
             notified AS (SELECT pg_notify($4, 'c|' || id || '|' || queue) FROM target WHERE state = 'active')
             SELECT t.id::text AS ref, t.state, t.drop_now,
                    EXISTS (SELECT 1 FROM ${jobs} WHERE ${byPublicId}) AS found,
                    (SELECT count(*) FROM notified)::int AS notified
             FROM (SELECT 1) AS one LEFT JOIN target t ON true`,

    /** $1 row id. Deletes a job `cancel` just ended whose retention keeps no failed jobs. */
    dropCancelled: `DELETE FROM ${jobs} WHERE id = $1::bigint AND state = 'cancelled' AND keep_failed = 0`,

    /**
     * $1 queue, $2 channel. Marks the queue paused (idempotent; claims read it) and tells the workers
     * of every process, so they hand back the jobs they buffered but did not start.
     */
    pause: `WITH marked AS (INSERT INTO ${s}.queue_paused (queue) VALUES ($1) ON CONFLICT (queue) DO NOTHING RETURNING 1)
            SELECT pg_notify($2, 'p|' || $1::text)`,

    /** $1 queue, $2 channel. Unpauses the queue and wakes its workers. */
    resume: `WITH gone AS (DELETE FROM ${s}.queue_paused WHERE queue = $1 RETURNING queue)
             SELECT pg_notify($2, '0|' || $1::text)`,

    /**
     * $1 lock class, $2 lock key, $3 batch size. Under the prune try-lock (one pruner per schema at
     * a time), deletes at most $3 finished jobs whose age bound has passed, skipping locked rows.
     * Returns how many.
     */
    pruneByAge: `WITH lock AS (SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS held),
                 doomed AS (
                   SELECT id FROM ${jobs}
                   WHERE (SELECT held FROM lock) AND purge_at <= now() AND state IN ${finished}
                   ORDER BY purge_at LIMIT $3 FOR UPDATE SKIP LOCKED
                 ),
                 gone AS (DELETE FROM ${jobs} j USING doomed, ${asyncCommit} WHERE j.id = doomed.id RETURNING 1)
                 SELECT count(*)::int AS deleted FROM gone`,

    /**
     * $1 lock class, $2 lock key, $3 batch size. Under the prune try-lock, deletes at most $3
     * finished jobs that have more than their `keep_count` newer finished jobs of the same queue
     * and outcome (0 = keep none). Each distinct bound finds its cutoff with one short index scan,
     * so the cost follows the rows kept by count, not every finished row. Returns how many.
     */
    pruneByCount: `WITH lock AS (SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS held),
                   bounds AS (
                     SELECT DISTINCT keep_count, queue, state FROM ${jobs}
                     WHERE (SELECT held FROM lock) AND keep_count IS NOT NULL AND state IN ${finished}
                   ),
                   cutoffs AS (
                     SELECT b.keep_count, b.queue, b.state, c.finished_at, c.id
                     FROM bounds b
                     LEFT JOIN LATERAL (
                       SELECT finished_at, id FROM ${jobs}
                       WHERE queue = b.queue AND state = b.state AND state IN ${finished}
                       ORDER BY finished_at DESC, id DESC
                       OFFSET greatest(b.keep_count - 1, 0) LIMIT 1
                     ) c ON b.keep_count > 0
                   ),
                   doomed AS (
                     SELECT j.id FROM ${jobs} j JOIN cutoffs c
                       ON j.keep_count = c.keep_count AND j.queue = c.queue AND j.state = c.state
                     WHERE j.state IN ${finished}
                       AND (c.keep_count = 0 OR (j.finished_at, j.id) < (c.finished_at, c.id))
                     LIMIT $3 FOR UPDATE OF j SKIP LOCKED
                   ),
                   gone AS (DELETE FROM ${jobs} j USING doomed, ${asyncCommit} WHERE j.id = doomed.id RETURNING 1)
                   SELECT count(*)::int AS deleted FROM gone`,
  };
}

export type QueueSql = ReturnType<typeof queueSql>;
