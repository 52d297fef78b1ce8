/**
 * The one shape Ballast's Postgres code talks to. `pg.Pool`, `pg.PoolClient`, `pg.Client` and PGlite
 * (and a PGlite transaction) all satisfy it, so the same SQL runs on a server and in-process.
 * Rows are typed by the caller; drivers return `unknown` columns unchanged.
 */
export interface SqlClient {
  query<R extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<R>>;
}

/** The part of a driver's result Ballast reads. */
export interface SqlResult<R> {
  rows: R[];
}

/**
 * A Postgres backend as the services see it: run a statement, run a transaction on one session,
 * listen on a channel, close. Implemented once for `pg` and once for PGlite; service logic never
 * asks which one it has.
 */
export interface SqlDatabase extends SqlClient {
  /** `true` for in-process PGlite; used for the boot log line, never to change SQL. */
  readonly embedded: boolean;
  /** Sessions statements can run on at once: the pool's size on a server, 1 on PGlite. */
  readonly maxConnections: number;
  /**
   * `query` for a hot statement: on a server it is prepared once per connection (named after a hash
   * of its text) and later runs skip parsing and planning; PGlite runs it as `query`. Only for
   * statements whose text is fixed at boot (the name would otherwise grow without bound).
   */
  queryPrepared<R extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<R>>;
  /** Runs `work` in one transaction on one session; commits when it resolves, rolls back when it throws. */
  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T>;
  /** Calls `onNotify` with each payload sent by `NOTIFY channel` (or `pg_notify`). Resolves to an unsubscribe. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Closes what Ballast opened; a pool or PGlite instance the user passed in is left open. */
  close(): Promise<void>;
}
