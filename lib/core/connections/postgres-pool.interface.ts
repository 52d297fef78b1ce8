import type { SqlClient } from './sql-client.js';

/**
 * The part of a `pg.Pool` (node-postgres) that Ballast calls, as our own type so the published
 * `.d.ts` stand alone without `@types/pg`. A `pg.Pool` satisfies it; a value that is not a pool
 * (a string, a config object) does not compile. Ballast drives it as a `pg.Pool` and never ends it.
 */
export interface PostgresPool extends SqlClient {
  /** Runs a named (prepared) statement, `{ name, text, values }`, as `pg`'s query config does. */
  query<R extends object = Record<string, unknown>>(config: PostgresQueryConfig): Promise<{ rows: R[] }>;
  /** Runs one statement on any pooled connection. */
  query<R extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
  /** Checks out one session, for a transaction or for `LISTEN`. */
  connect(): Promise<PostgresPoolClient>;
}

/** A statement for {@link PostgresPool.query}: `name` makes it a prepared statement on each connection. */
export interface PostgresQueryConfig {
  name?: string;
  text: string;
  values?: unknown[];
}

/** One checked-out session of a {@link PostgresPool} (`pg.PoolClient`). */
export interface PostgresPoolClient extends SqlClient {
  /** Hands the session back to the pool; `true` destroys it instead. */
  release(destroy?: boolean): void;
}
