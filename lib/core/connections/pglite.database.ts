import type { PgliteInstance } from './pglite-instance.interface.js';
import type { SqlClient, SqlDatabase, SqlResult } from './sql-client.js';

/**
 * `SqlDatabase` over in-process PGlite. PGlite runs one session, so statements are serialized by
 * PGlite itself; the SQL is the same as on a server.
 */
export class PgliteDatabase implements SqlDatabase {
  readonly embedded = true;
  /** PGlite runs one session; statements queue inside it. */
  readonly maxConnections = 1;

  constructor(
    private readonly db: PgliteInstance,
    private readonly owned: boolean,
  ) {}

  query<R extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<R>> {
    return this.db.query<R>(text, params);
  }

  queryPrepared<R extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<R>> {
    // One in-process session and no wire protocol: there is no round trip for preparing to save.
    return this.db.query<R>(text, params);
  }

  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(tx as unknown as SqlClient));
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    return this.db.listen(channel, onNotify);
  }

  async close(): Promise<void> {
    if (this.owned && !this.db.closed) await this.db.close();
  }
}
