import { createHash } from 'node:crypto';
import type { Pool, PoolClient, Notification } from 'pg';
import type { SqlClient, SqlDatabase, SqlResult } from './sql-client.js';
import { quoteIdentifier } from '../config/identifiers.js';
import { settlesWithin } from '../../common/settles-within.js';

/** How long to wait before re-opening a LISTEN session that broke. */
const RELISTEN_DELAY_MS = 1000;
/**
 * How long closing an owned pool waits for its sessions to finish. A server that stopped answering
 * (a silent connection, not a refused one) never lets a session finish; past this, the sessions'
 * sockets are destroyed, so `app.close()` ends.
 */
const CLOSE_WAIT_MS = 1500;

/**
 * `SqlDatabase` over a `pg.Pool`. LISTEN needs a session of its own, so one pooled client is kept
 * for all channels and re-opened if the server drops it; a missed notification is covered by the
 * callers' poll fallback.
 */
export class PgPoolDatabase implements SqlDatabase {
  readonly embedded = false;
  private listener: PoolClient | undefined;
  private listenerReady: Promise<PoolClient> | undefined;
  private readonly channels = new Map<string, Set<(payload: string) => void>>();
  private closed = false;
  private relistenTimer: NodeJS.Timeout | undefined;
  private readonly statementNames = new Map<string, string>();
  /** The sessions of an owned pool, so a close can cut them when the server does not answer. */
  private readonly sessions = new Set<PoolClient>();

  constructor(
    private readonly pool: Pool,
    private readonly owned: boolean,
    /** `false` (behind a pooler that cannot carry them): `queryPrepared` sends plain statements. */
    private readonly prepared = true,
  ) {
    if (owned) {
      pool.on('connect', (client) => this.sessions.add(client));
      pool.on('remove', (client) => this.sessions.delete(client));
    }
  }

  get maxConnections(): number {
    // pg's own default pool size when the pool was made without `max`.
    const max = (this.pool as { options?: { max?: unknown } }).options?.max;
    return typeof max === 'number' && max >= 1 ? max : 10;
  }

  query<R extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<R>> {
    return this.pool.query(text, params) as unknown as Promise<SqlResult<R>>;
  }

  queryPrepared<R extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<R>> {
    if (!this.prepared) return this.query<R>(text, params);
    let name = this.statementNames.get(text);
    if (name === undefined) {
      // Named by content: two module instances on one pool (other schema, same statement) never clash.
      name = `ballast_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
      this.statementNames.set(text, name);
    }
    return this.pool.query({ name, text, values: params }) as unknown as Promise<SqlResult<R>>;
  }

  async transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client as unknown as SqlClient);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw error;
    } finally {
      // A session whose ROLLBACK failed is in an unknown state: destroy it rather than pool it.
      client.release(broken);
    }
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    let handlers = this.channels.get(channel);
    const first = !handlers;
    if (!handlers) {
      handlers = new Set();
      this.channels.set(channel, handlers);
    }
    handlers.add(onNotify);
    const client = await this.ensureListener();
    if (first) await client.query(`LISTEN ${quoteIdentifier(channel)}`);
    return async () => {
      const set = this.channels.get(channel);
      if (!set) return;
      set.delete(onNotify);
      if (set.size === 0) {
        this.channels.delete(channel);
        if (this.listener && !this.closed) await this.listener.query(`UNLISTEN ${quoteIdentifier(channel)}`).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.relistenTimer) clearTimeout(this.relistenTimer);
    const listener = this.listener;
    this.listener = undefined;
    this.listenerReady = undefined;
    this.channels.clear();
    if (listener) {
      listener.removeAllListeners('notification');
      listener.release(true);
    }
    if (!this.owned) return;
    const ended = this.pool.end();
    if (await settlesWithin(ended, CLOSE_WAIT_MS)) return;
    // Sessions stuck on a server that does not answer: cut them, which fails their statements and
    // lets the pool end.
    for (const session of this.sessions) session.connection.stream.destroy();
    await settlesWithin(ended, CLOSE_WAIT_MS);
  }

  private ensureListener(): Promise<PoolClient> {
    if (!this.listenerReady) {
      this.listenerReady = this.openListener().catch((error: unknown) => {
        this.listenerReady = undefined;
        throw error;
      });
    }
    return this.listenerReady;
  }

  private async openListener(): Promise<PoolClient> {
    const client = await this.pool.connect();
    if (this.closed) {
      client.release(true);
      throw new Error('database closed');
    }
    client.on('notification', (message: Notification) => {
      const handlers = this.channels.get(message.channel);
      if (!handlers) return;
      for (const handler of handlers) handler(message.payload ?? '');
    });
    client.on('error', () => this.dropListener(client));
    for (const channel of this.channels.keys()) await client.query(`LISTEN ${quoteIdentifier(channel)}`);
    this.listener = client;
    return client;
  }

  private dropListener(client: PoolClient): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    this.listenerReady = undefined;
    client.release(true);
    this.scheduleRelisten();
  }

  /** Re-opens the LISTEN session after a pause, retrying until it works or the database closes. */
  private scheduleRelisten(): void {
    if (this.closed || this.channels.size === 0) return;
    this.relistenTimer = setTimeout(() => {
      this.ensureListener().catch(() => this.scheduleRelisten());
    }, RELISTEN_DELAY_MS);
    this.relistenTimer.unref();
  }
}
