import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of one test's own (Debian's `pg_createcluster`), on a port picked free at run
 * time, so a test can restart or stop it without touching the shared server. Trust auth on loopback;
 * database `postgres`. `destroy()` stops and drops it, and only it.
 */
export interface PrivatePostgres {
  readonly port: number;
  readonly url: string;
  readonly name: string;
  /** `pg_ctlcluster restart`: every session is cut; resolves once the server accepts connections again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(label: string): Promise<PrivatePostgres> {
  const version = readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b)).at(-1)!;
  const name = `ballast_${label.replace(/[^a-z0-9]/g, '')}_${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  await run('pg_createcluster', [version, name, '--port', String(port), '--', '--auth=trust'], { timeout: 60_000 });
  const ctl = (action: string) => run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, action], { timeout: 60_000 });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const ready = () =>
    waitFor(`the private postgres ${name} to accept connections`, async () => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    }, 30_000, 50);
  await ctl('start');
  await ready();
  return {
    port,
    url,
    name,
    restart: async () => {
      await ctl('restart');
      await ready();
    },
    stop: async () => {
      await ctl('stop');
    },
    start: async () => {
      await ctl('start');
      await ready();
    },
    destroy: async () => {
      await run('pg_dropcluster', ['--stop', version, name], { timeout: 60_000 }).catch(() => undefined);
    },
  };
}

