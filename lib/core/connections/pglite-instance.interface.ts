import type { SqlClient } from './sql-client.js';

/**
 * The part of a PGlite instance (`@electric-sql/pglite`) that Ballast calls, as our own type so the
 * published `.d.ts` stand alone (PGlite's own declarations need Emscripten's types under
 * `skipLibCheck: false`). A `PGlite` satisfies it. Ballast never closes an instance you pass in.
 */
export interface PgliteInstance extends SqlClient {
  /** Whether `close()` was called. */
  readonly closed: boolean;
  /** Runs `work` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T>;
  /** Calls `onNotify` with each payload of `NOTIFY channel`; resolves to an unsubscribe. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
