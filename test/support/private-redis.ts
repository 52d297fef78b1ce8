import { afterAll } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface PrivateRedisOptions {
  /**
   * Extra `redis-server` arguments, after the defaults (a later single-valued option wins), e.g.
   * `['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']`. Relative paths are
   * inside the server's own directory, which survives `kill()` and `restart()`.
   * @default []
   */
  args?: string[];
  /**
   * The server binary (`valkey-server` speaks the same arguments).
   * @default 'redis-server'
   */
  binary?: string;
  /**
   * How long a start (or restart) may take to answer PING, and a stop to end the process, in ms.
   * @default 10000
   */
  timeoutMs?: number;
}

/**
 * A `redis-server` of one test's own, for what the shared server must not see: killing it,
 * restarting it, a cluster. Nothing is kept on disk (`--save "" --appendonly no`), so a restarted
 * server starts empty, with no scripts loaded.
 *
 * - The port is picked free at run time on 127.0.0.1 (never fixed), so runs on one machine never
 *   share or kill each other's server; if another process takes the port first, another is picked.
 * - The server is a child process of the test (not daemonized): `pid` is the process this helper
 *   spawned and holds, it is the only process ever signalled, and it is checked to be the one that
 *   answers on the port (`INFO server` reports our `process_id` and `tcp_port`).
 * - Its `--dir`, `--pidfile` and `--logfile` are in a fresh temp directory, removed by `stop()`.
 * - It never outlives the test run: servers not stopped by their test are stopped after the test
 *   file (`afterAll`), and a watchdog process SIGKILLs the server if the test process dies first.
 *
 * ```ts
 * const server = await startPrivateRedis();
 * const client = new Redis(server.url);
 * await server.kill();     // a crash: connections drop, the port refuses
 * await server.restart();  // same port, new (empty) process, verified before it resolves
 * await server.stop();     // in afterAll/finally
 * ```
 */
export interface PrivateRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The pid of the current server process (a new one after `restart()`). */
  readonly pid: number;
  /** The server's own directory (`--dir`): its pid file, log and any files it writes. */
  readonly dir: string;
  /** Whether the server process is running (false after `kill()` until `restart()`). */
  readonly running: boolean;
  /** SIGTERM, waits until the process is gone (SIGKILL past the deadline), removes the directory. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: waits until the process is gone; the port and directory are kept for `restart()`. */
  kill(): Promise<void>;
  /**
   * A new process on the same port and directory: stops the running one first (SIGTERM; nothing to
   * do after `kill()`), waits until it is gone, then starts the new one and resolves once it answers
   * and is verified to be ours. Throws if another process took the port meanwhile.
   */
  restart(): Promise<void>;
}

/** Servers of this test file not stopped yet. */
const unstopped = new Set<PrivateRedis>();

afterAll(async () => {
  for (const server of [...unstopped]) await server.stop();
});

/**
 * Run by `node -e` next to each server, with the server's directory as its argument. Reads the
 * server's current pid and port, one line per (re)start, on stdin; when stdin ends (the test
 * stopped the server, or the test process died), SIGKILLs that pid if it is still our server (its
 * command line, which redis-server rewrites to `redis-server 127.0.0.1:<port>`, names our port)
 * and removes the directory.
 */
const WATCHDOG = `
const fs = require('node:fs');
const dir = process.argv[1];
let pid = 0;
let port = '';
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (pending + chunk).split('\\n');
  pending = lines.pop();
  for (const line of lines) [pid, port] = [Number(line.split(' ')[0]), line.split(' ')[1]];
});
const cleanup = () => {
  if (pid > 0) {
    let ours = !fs.existsSync('/proc/self');
    try { ours = fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').includes(port); } catch {}
    if (ours) try { process.kill(pid, 'SIGKILL'); } catch {}
  }
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.stdin.on('end', cleanup);
process.stdin.on('error', cleanup);
`;

function startWatchdog(dir: string): ChildProcess {
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG, dir], { stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.on('error', () => undefined);
  watchdog.stdin!.on('error', () => undefined);
  // Neither keeps the test process alive; the pipe closing when it exits is what wakes the watchdog.
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
  return watchdog;
}

/** Starts a private `redis-server` and resolves once it answers PING and is verified to be ours. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const binary = options.binary ?? 'redis-server';
  const args = options.args ?? [];
  const timeoutMs = options.timeoutMs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'ballast-redis-'));
  const watchdog = startWatchdog(dir);
  const watch = (pid: number, port: number) => watchdog.stdin!.write(`${pid} ${port}\n`);
  const release = () => {
    rmSync(dir, { recursive: true, force: true });
    watchdog.stdin!.end();
  };
  let child: ChildProcess | undefined;
  let port = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const outcome = await launch(binary, port, dir, args, timeoutMs, watch);
      if (outcome.kind === 'up') {
        child = outcome.child;
        break;
      }
      // Someone took the port between our probe and the server's bind: pick another.
      if (!outcome.portTaken || attempt >= 5) throw new Error(`could not start a private ${binary}: ${outcome.reason}`);
    }
  } catch (error) {
    release();
    throw error;
  }

  let stopped = false;
  const server: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get pid() {
      return child?.pid ?? 0;
    },
    get running() {
      return child !== undefined && isRunning(child);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      unstopped.delete(server);
      if (child) await end(child, 'SIGTERM', timeoutMs);
      child = undefined;
      release();
    },
    async kill() {
      if (child) await end(child, 'SIGKILL', timeoutMs);
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop(): the private redis-server and its directory are gone');
      if (child) await end(child, 'SIGTERM', timeoutMs);
      // The port is free again once the old process is gone (redis-server binds with SO_REUSEADDR);
      // a bind that still fails means another process took it, and the port cannot be kept.
      for (let attempt = 1; ; attempt++) {
        const outcome = await launch(binary, port, dir, args, timeoutMs, watch);
        if (outcome.kind === 'up') {
          child = outcome.child;
          return;
        }
        if (!outcome.portTaken || attempt >= 5) throw new Error(`could not restart the private ${binary} on port ${port}: ${outcome.reason}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
  unstopped.add(server);
  return server;
}


type Launch = { kind: 'up'; child: ChildProcess } | { kind: 'failed'; reason: string; portTaken: boolean };

/**
 * Spawns the server on `port` and waits until it answers PING with our pid and port. A server
 * that exits first (the port was taken) or does not answer in time is a failure, after which
 * no process of ours is left running.
 */
async function launch(
  binary: string,
  port: number,
  dir: string,
  extra: string[],
  timeoutMs: number,
  spawned: (pid: number, port: number) => void,
): Promise<Launch> {
  const logfile = join(dir, 'redis.log');
  const child = spawn(
    binary,
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--dir', dir,
      '--pidfile', join(dir, 'redis.pid'),
      '--logfile', logfile,
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (child.pid !== undefined) spawned(child.pid, port);
  // The server does not keep the test process alive (afterAll and the watchdog end it).
  child.unref();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  let spawnError: string | undefined;
  child.once('error', (error) => (spawnError = String(error)));
  const log = () => {
    try {
      return readFileSync(logfile, 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError !== undefined) return { kind: 'failed', reason: `${binary} did not start: ${spawnError}`, portTaken: false };
    if (!isRunning(child)) {
      const output = `${stderr} ${log()}`.trim();
      return { kind: 'failed', reason: `${binary} exited (${String(child.exitCode ?? child.signalCode)}): ${output}`, portTaken: /address already in use/i.test(output) };
    }
    const seen = await probe(port);
    if (seen !== undefined) {
      if (seen.pid === child.pid && seen.port === port) return { kind: 'up', child };
      // Another server answers on "our" port: ours cannot have bound it. Never talk to that one.
      await end(child, 'SIGKILL', timeoutMs);
      return { kind: 'failed', reason: `port ${port} is answered by pid ${seen.pid}, not by our ${binary} (pid ${child.pid})`, portTaken: true };
    }
    if (Date.now() > deadline) {
      await end(child, 'SIGKILL', timeoutMs);
      return { kind: 'failed', reason: `no PING answer on port ${port} within ${timeoutMs} ms. ${stderr} ${log()}`.trim(), portTaken: false };
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * PING and `INFO server` over a plain socket, then the pid and port the answering server reports;
 * undefined if nothing (or no ready Redis) answers yet. Not ioredis: a client whose connection was
 * refused leaves a 2 s timer behind on disconnect, which keeps Jest from exiting.
 */
function probe(port: number): Promise<{ pid: number; port: number } | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (result: { pid: number; port: number } | undefined) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1000, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('close', () => done(undefined));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      // Anything but PONG first (-LOADING, -ERR, a server of another protocol) is not ready.
      if (reply.length >= 7 && !reply.startsWith('+PONG\r\n')) return done(undefined);
      const bulk = /^\+PONG\r\n\$(\d+)\r\n/.exec(reply);
      if (!bulk || reply.length < bulk[0].length + Number(bulk[1])) return;
      const info = reply.slice(bulk[0].length, bulk[0].length + Number(bulk[1]));
      const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
      done({ pid: field('process_id'), port: field('tcp_port') });
    });
  });
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Signals our process (only if it has not exited: its pid is never reused under us) and waits for its exit. */
async function end(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
  const tooLate = await Promise.race([exited.then(() => false), late]);
  clearTimeout(timer);
  if (tooLate) {
    child.kill('SIGKILL');
    await exited;
  }
}
