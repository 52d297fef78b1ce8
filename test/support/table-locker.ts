import pg from 'pg';
import { TEST_DATABASE_URL } from './test-env.js';

/**
 * A session of the test's own that holds an ACCESS EXCLUSIVE lock on one of Ballast's tables, so
 * every statement Ballast sends to it waits: a store that hangs, without stopping the server.
 */
export interface TableLocker {
  /** Takes the lock (in a transaction of its own) on `"schema".table`. */
  lock(schema: string, table: string): Promise<void>;
  /** Lets go of the lock; the statements that waited on it run. */
  release(): Promise<void>;
  /** Releases a lock still held and ends the session. */
  close(): Promise<void>;
}

export async function tableLocker(): Promise<TableLocker> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  let held = false;
  const release = async () => {
    if (!held) return;
    held = false;
    await client.query('ROLLBACK');
  };
  return {
    lock: async (schema, table) => {
      await client.query('BEGIN');
      held = true;
      await client.query(`LOCK TABLE "${schema}".${table} IN ACCESS EXCLUSIVE MODE`);
    },
    release,
    close: async () => {
      await release().catch(() => undefined);
      await client.end();
    },
  };
}
