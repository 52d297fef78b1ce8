import type { Migration } from '../../../core/migrations/migration.js';

/**
 * Schema of the Postgres queue, append-only. One table holds every job of every queue; each hot
 * path (claim, promotion of delayed jobs, the reaper, counts and pruning of finished jobs) has its
 * own partial index, so an index holds only the rows its path can want and stays small however
 * many finished jobs are kept.
 */
export const queueMigrations: readonly Migration[] = [
  {
    service: 'queue',
    version: 1,
    name: 'create queue_jobs and queue_paused',
    statements: (s) => [
      // Ids are drawn with nextval() inside the enqueue statement, so it can return them in input order.
      `CREATE SEQUENCE ${s}.queue_jobs_id_seq AS bigint`,
      `CREATE TABLE ${s}.queue_jobs (
         id                 bigint      PRIMARY KEY DEFAULT nextval('${s}.queue_jobs_id_seq'),
         queue              text        NOT NULL,
         -- The caller's jobId: the job's public id when given (never all digits, so it cannot be
         -- mistaken for a generated id), null for generated ids.
         job_key            text,
         name               text        NOT NULL,
         data               jsonb       NOT NULL,
         state              text        NOT NULL CHECK (state IN ('waiting', 'delayed', 'active', 'completed', 'failed')),
         priority           integer     NOT NULL DEFAULT 0,
         run_at             timestamptz NOT NULL DEFAULT now(),
         attempts_made      integer     NOT NULL DEFAULT 0,
         max_attempts       integer     NOT NULL,
         backoff_type       text        NOT NULL DEFAULT 'fixed' CHECK (backoff_type IN ('fixed', 'exponential')),
         backoff_delay      integer     NOT NULL DEFAULT 0,
         backoff_jitter     real        NOT NULL DEFAULT 0,
         timeout_ms         integer     NOT NULL,
         -- Retention as given at enqueue: how many finished jobs to keep (0 = remove at once, null =
         -- no count bound) and for how long (null = no age bound), for each outcome.
         keep_completed     integer,
         keep_completed_ms  bigint,
         keep_failed        integer,
         keep_failed_ms     bigint,
         -- Retention of the outcome that happened, set when the job finishes; read by the pruner.
         keep_count         integer,
         purge_at           timestamptz,
         -- The claim: a fresh token per claim, and the lease it holds until renewed.
         lock_token         uuid,
         locked_until       timestamptz,
         result             jsonb,
         error_message      text,
         error_stack        text,
         created_at         timestamptz NOT NULL DEFAULT now(),
         finished_at        timestamptz
       ) WITH (
         -- Every job is inserted, updated and deleted within seconds: vacuum early so dead tuples
         -- and dead index entries do not pile up in front of the claim's index scan.
         autovacuum_vacuum_scale_factor = 0.01,
         autovacuum_vacuum_insert_scale_factor = 0.05,
         autovacuum_analyze_scale_factor = 0.02
       )`,
      `ALTER SEQUENCE ${s}.queue_jobs_id_seq OWNED BY ${s}.queue_jobs.id`,
      // Idempotent enqueue: one job per (queue, jobId) while it exists.
      `CREATE UNIQUE INDEX queue_jobs_key ON ${s}.queue_jobs (queue, job_key) WHERE job_key IS NOT NULL`,
      // The claim: ready jobs of a queue by priority, then the time they became ready, then FIFO.
      `CREATE INDEX queue_jobs_ready ON ${s}.queue_jobs (queue, priority, run_at, id) WHERE state = 'waiting'`,
      // The claim's second branch: delayed jobs (and retries in backoff) by due time.
      `CREATE INDEX queue_jobs_delayed ON ${s}.queue_jobs (queue, run_at) WHERE state = 'delayed'`,
      // The reaper: running jobs by lease expiry.
      `CREATE INDEX queue_jobs_active ON ${s}.queue_jobs (queue, locked_until) WHERE state = 'active'`,
      // Counts, dead-letter listing and count-based retention: finished jobs, newest first.
      `CREATE INDEX queue_jobs_finished ON ${s}.queue_jobs (queue, state, finished_at DESC, id DESC)
         WHERE state IN ('completed', 'failed')`,
      // Count-based retention groups; small because such rows are pruned down to their bound.
      `CREATE INDEX queue_jobs_keep_count ON ${s}.queue_jobs (keep_count, queue, state)
         WHERE keep_count IS NOT NULL AND state IN ('completed', 'failed')`,
      // Age-based retention: finished jobs by the time they may go.
      `CREATE INDEX queue_jobs_purge ON ${s}.queue_jobs (purge_at) WHERE purge_at IS NOT NULL`,
      // A row per paused queue; the claim reads it in the same statement.
      `CREATE TABLE ${s}.queue_paused (
         queue      text        PRIMARY KEY,
         paused_at  timestamptz NOT NULL DEFAULT now()
       )`,
    ],
  },
  {
    service: 'queue',
    version: 2,
    name: 'count stalls apart from attempts',
    statements: (s) => [
      // Times the job lost its lease and went back to waiting; such a return gives its attempt back.
      `ALTER TABLE ${s}.queue_jobs ADD COLUMN stalls integer NOT NULL DEFAULT 0`,
    ],
  },
  {
    service: 'queue',
    version: 3,
    name: 'generated ids start at the clock',
    statements: (s) => [
      // Generated ids must never repeat, also when the store itself starts again empty (embedded
      // PGlite in memory, a database recreated from scratch): a sequence created then would start
      // at 1 again and hand out ids that earlier jobs had. Moving it to the current time in
      // microseconds puts every id drawn after a fresh start above every id drawn before it (that
      // would take more than a million jobs a second, sustained, to overtake the clock). Only ever
      // moves forward, so an existing sequence keeps counting from where it is if that is later.
      `SELECT setval('${s}.queue_jobs_id_seq',
                     GREATEST((SELECT last_value FROM ${s}.queue_jobs_id_seq),
                              floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint))`,
    ],
  },
  {
    service: 'queue',
    version: 4,
    name: 'stalls count only started jobs',
    statements: (s) => [
      // Whether the claimed job's handler has started. A worker claims a few jobs beyond its free
      // slots into a buffer; when it dies, those come back too, but they never ran, so they must
      // not count a stall (with maxStalls low, two crashes close together dead-lettered jobs that
      // had never run). A constant default adds the column without rewriting the table.
      `ALTER TABLE ${s}.queue_jobs ADD COLUMN started boolean NOT NULL DEFAULT false`,
    ],
  },
  {
    service: 'queue',
    version: 5,
    name: 'run timeouts and progress',
    statements: (s) => [
      // The longest one attempt may run (null: no limit), as given at enqueue; the worker enforces it.
      `ALTER TABLE ${s}.queue_jobs ADD COLUMN run_timeout_ms integer`,
      // The last value the handler reported with context.progress, kept with the job.
      `ALTER TABLE ${s}.queue_jobs ADD COLUMN progress jsonb`,
    ],
  },
  {
    service: 'queue',
    version: 6,
    name: 'unique, debounce and throttle keys',
    statements: (s) => [
      // The debounce or throttle key of a job, null for other jobs.
      `ALTER TABLE ${s}.queue_jobs ADD COLUMN dedupe_key text`,
      // One unfinished job per (queue, key): the arbiter of debounce and throttle adds. A finished job
      // leaves the index by its state, so the next add makes a new job. `state` is in other partial
      // indexes already, so this one costs no HOT update that was possible before.
      `CREATE UNIQUE INDEX queue_jobs_dedupe ON ${s}.queue_jobs (queue, dedupe_key)
         WHERE dedupe_key IS NOT NULL AND state IN ('waiting', 'delayed', 'active')`,
      // `unique` keys, apart from the jobs: a key must hold for its window even after its job is
      // removed by retention. job_id is the public id of the job that took the key.
      `CREATE TABLE ${s}.queue_unique_keys (
         queue       text        NOT NULL,
         key         text        NOT NULL,
         job_id      text        NOT NULL,
         expires_at  timestamptz NOT NULL,
         PRIMARY KEY (queue, key)
       )`,
      // The pruner: keys whose window has ended.
      `CREATE INDEX queue_unique_keys_expiry ON ${s}.queue_unique_keys (expires_at)`,
    ],
  },
  {
    service: 'queue',
    version: 7,
    name: 'recurring schedules',
    statements: (s) => [
      // The tick a schedule enqueued the job for (null for other jobs); handed to the handler.
      `ALTER TABLE ${s}.queue_jobs ADD COLUMN scheduled_for timestamptz`,
      // One row per schedule. A tick is enqueued by the statement that moves next_run_at on from the
      // value the scheduler read (a compare-and-set), so of several processes that saw the same due
      // tick exactly one enqueues it.
      `CREATE TABLE ${s}.queue_schedules (
         id            text        PRIMARY KEY,
         queue         text        NOT NULL,
         name          text        NOT NULL,
         source        text        NOT NULL CHECK (source IN ('code', 'api')),
         -- {"kind":"cron","cron":...,"tz":...} or {"kind":"every","everyMs":...}
         timing        jsonb       NOT NULL,
         catch_up      text        NOT NULL CHECK (catch_up IN ('none', 'last')),
         -- The tick job's columns, keyed as the enqueue statement reads them; data as JSON text.
         job           jsonb       NOT NULL,
         next_run_at   timestamptz NOT NULL,
         last_tick_at  timestamptz,
         created_at    timestamptz NOT NULL DEFAULT now(),
         updated_at    timestamptz NOT NULL DEFAULT now()
       )`,
      // The scheduler: schedules by due time.
      `CREATE INDEX queue_schedules_due ON ${s}.queue_schedules (next_run_at)`,
    ],
  },
  {
    service: 'queue',
    version: 8,
    name: 'cancelled jobs',
    statements: (s) => [
      // `cancelled` is a finished state of its own, beside completed and failed. The column's CHECK
      // carries the name Postgres gave it in version 1.
      `ALTER TABLE ${s}.queue_jobs DROP CONSTRAINT queue_jobs_state_check`,
      `ALTER TABLE ${s}.queue_jobs ADD CONSTRAINT queue_jobs_state_check
         CHECK (state IN ('waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled'))`,
      // Set on a running job by `cancel`; whatever ends the attempt (its failure, the reaper, a
      // hand-back) then ends the job `cancelled` instead of retrying it. A constant default adds the
      // column without rewriting the table.
      `ALTER TABLE ${s}.queue_jobs ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false`,
      // The finished-jobs indexes of version 1, rebuilt to hold cancelled jobs too (listing, counts
      // and count-based retention read them), under their old names.
      `CREATE INDEX queue_jobs_finished_v8 ON ${s}.queue_jobs (queue, state, finished_at DESC, id DESC)
         WHERE state IN ('completed', 'failed', 'cancelled')`,
      `DROP INDEX ${s}.queue_jobs_finished`,
      `ALTER INDEX ${s}.queue_jobs_finished_v8 RENAME TO queue_jobs_finished`,
      `CREATE INDEX queue_jobs_keep_count_v8 ON ${s}.queue_jobs (keep_count, queue, state)
         WHERE keep_count IS NOT NULL AND state IN ('completed', 'failed', 'cancelled')`,
      `DROP INDEX ${s}.queue_jobs_keep_count`,
      `ALTER INDEX ${s}.queue_jobs_keep_count_v8 RENAME TO queue_jobs_keep_count`,
    ],
  },
  {
    service: 'queue',
    version: 9,
    name: 'retry later',
    statements: (s) => [
      // Times the handler threw RetryLaterError (each deferral gave its attempt back); bounded by
      // the handler's maxRetryLater, reset by a retry of the failed job.
      `ALTER TABLE ${s}.queue_jobs ADD COLUMN retry_laters integer NOT NULL DEFAULT 0`,
    ],
  },
  {
    service: 'queue',
    version: 10,
    name: 'concurrency keys',
    statements: (s) => [
      // The key a job's concurrency limit counts it under; '' for a job with no key (keys are never
      // empty), so one index serves the claim of both kinds by prefix. A constant default adds the
      // column without rewriting the table.
      `ALTER TABLE ${s}.queue_jobs ADD COLUMN concurrency_key text NOT NULL DEFAULT ''`,
      // The ready index of version 1 with the key after the queue: the claim reads the jobs without
      // a key, and each key's next jobs, as ordered range scans, however deep one key's backlog is;
      // the distinct keys with ready jobs are found by skipping from key to key.
      `CREATE INDEX queue_jobs_ready_v10 ON ${s}.queue_jobs (queue, concurrency_key, priority, run_at, id)
         WHERE state = 'waiting'`,
      `DROP INDEX ${s}.queue_jobs_ready`,
      `ALTER INDEX ${s}.queue_jobs_ready_v10 RENAME TO queue_jobs_ready`,
      // One row per key ever used: its limit and its running jobs as the claims counted them. Only
      // a claim holding the row's lock changes active, so claims in any number of processes
      // never run more than max_active jobs of a key. Rows are never deleted: a job's key row
      // exists before the job does (the enqueue creates it first).
      `CREATE TABLE ${s}.queue_groups (
         queue text NOT NULL,
         key text NOT NULL,
         max_active integer NOT NULL CHECK (max_active > 0),
         active integer NOT NULL DEFAULT 0,
         -- When a claim last took a job of the key: claims serve the least recently served keys first.
         served_at timestamptz NOT NULL DEFAULT '-infinity',
         PRIMARY KEY (queue, key)
       )`,
      // Slots given back: every statement that ends a running job of a key (completion, failure,
      // retry, hand-back, reaper) inserts one row here instead of updating the key row, so it never
      // waits on a claim's lock (nor two of them on each other's). The next claim of the key, under
      // its lock, deletes the rows it sees and takes them off active.
      `CREATE TABLE ${s}.queue_group_releases (
         queue text NOT NULL,
         key text NOT NULL,
         n integer NOT NULL
       )`,
      `CREATE INDEX queue_group_releases_key ON ${s}.queue_group_releases (queue, key)`,
    ],
  },
];
