import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BallastConnectionError, BallastModule, Job, type BallastModuleOptions } from '../../lib/index.js';
import { freePort } from '../support/free-port.js';
import { TEST_VALKEY_URL } from '../support/test-env.js';
import { uniquePrefix, uniqueSchema } from '../support/unique-name.js';

@Injectable()
class BootJobs {
  @Job('noop', { queue: 'boot' })
  noop(): void {}
}

@Module({ providers: [BootJobs] })
class BootJobsModule {}

async function bootError(options: BallastModuleOptions, withJobs = false): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    const moduleRef = await Test.createTestingModule({ imports: [BallastModule.forRoot(options), ...(withJobs ? [BootJobsModule] : [])] }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    await moduleRef.close();
    return { error: undefined, ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

const BOOT_TIMEOUT = 1500;

/**
 * One boot policy for every service: a store that a service opens at boot and that cannot be reached
 * fails the boot within `bootTimeoutMs`, with a `BallastConnectionError` naming the store's host and
 * port and the option or env var that points there, never its password. A queue on a dead Redis used
 * to hang the boot for ever; a cache or rate limit on one booted and failed its first calls.
 */
describe('boot on an unreachable store', () => {
  // The other services run on a reachable server (`valkey` here points at the test Redis), so the
  // error is the service's under test.
  it.each([
    ['the cache', 'connecting for the cache', (url: string): BallastModuleOptions => ({ redis: { url }, cache: { provider: 'redis' } }), false],
    [
      'a queue with @Job handlers',
      'opening the queue',
      (url: string): BallastModuleOptions => ({ redis: { url }, valkey: { url: TEST_VALKEY_URL }, cache: { provider: 'valkey' }, queue: { provider: 'redis', workers: true } }),
      true,
    ],
    [
      'a queue the app chose a provider for (no handlers)',
      'opening the queue',
      (url: string): BallastModuleOptions => ({ redis: { url }, valkey: { url: TEST_VALKEY_URL }, cache: { provider: 'valkey' }, queue: { provider: 'redis' } }),
      false,
    ],
    [
      'rate limits with policies',
      'opening the rate-limit store',
      (url: string): BallastModuleOptions => ({
        redis: { url },
        valkey: { url: TEST_VALKEY_URL },
        cache: { provider: 'valkey' },
        rateLimit: { provider: 'redis', policies: { api: { limit: 5, window: 1000 } } },
      }),
      false,
    ],
  ])('Redis, for %s: fails within bootTimeoutMs, naming redis.url and host:port, never the password', async (_what, operation, options, withJobs) => {
    const port = await freePort();
    const { error, ms } = await bootError({ ...options(`redis://:hunter2@127.0.0.1:${port}`), keyPrefix: uniquePrefix('boot'), bootTimeoutMs: BOOT_TIMEOUT }, withJobs);
    expect(error).toBeInstanceOf(BallastConnectionError);
    const connection = error as BallastConnectionError;
    expect(connection.where).toBe(`127.0.0.1:${port}`);
    expect(connection.source).toBe('redis.url');
    expect(connection.operation).toBe(operation);
    expect(connection.message).toContain(`127.0.0.1:${port}`);
    expect(connection.message).toContain('redis.url');
    expect(connection.message).not.toContain('hunter2');
    expect(ms).toBeLessThan(BOOT_TIMEOUT + 3000);
  });

  it('Postgres: fails within bootTimeoutMs naming postgres.connectionString and host:port, never the password', async () => {
    const port = await freePort();
    const { error, ms } = await bootError({
      postgres: { connectionString: `postgres://app:hunter2@127.0.0.1:${port}/app` },
      // A configured service opens at boot; with none configured or declared, nothing would.
      cache: {},
      schema: uniqueSchema('boot'),
      bootTimeoutMs: BOOT_TIMEOUT,
    });
    expect(error).toBeInstanceOf(BallastConnectionError);
    const connection = error as BallastConnectionError;
    expect(connection).toMatchObject({ provider: 'postgres', where: `127.0.0.1:${port}/app`, source: 'postgres.connectionString' });
    expect(connection.message).toMatch(/ECONNREFUSED/);
    expect(connection.message).not.toContain('hunter2');
    expect(ms).toBeLessThan(BOOT_TIMEOUT + 3000);
  });

  it.each([
    ['postgres', (port: number) => ({ DATABASE_URL: `postgres://app:hunter2@127.0.0.1:${port}/app` }), 'DATABASE_URL'],
    ['redis', (port: number) => ({ QUEUE_PROVIDER: 'redis', CACHE_PROVIDER: 'redis', REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` }), 'REDIS_URL'],
  ] as const)('a worker-only process on an unreachable %s exits non-zero soon, saying which variable to fix', async (_store, env, variable) => {
    const port = await freePort();
    const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
    const child = spawn(process.execPath, ['--import', here('../queue/crash/register-ts.mjs'), here('../queue/fault/worker-app.ts')], {
      env: { ...process.env, ...env(port), BALLAST_BOOT_TIMEOUT_MS: String(BOOT_TIMEOUT), BALLAST_KEY_PREFIX: uniquePrefix('boot'), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = Date.now();
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const ms = Date.now() - started;
    expect(exit.code).not.toBe(0);
    expect(output).toContain(variable);
    expect(output).toContain(`127.0.0.1:${port}`);
    expect(output).not.toContain('hunter2');
    expect(output).not.toContain('\nready\n');
    // Booting the TypeScript sources takes a few seconds by itself on this machine.
    expect(ms).toBeLessThan(BOOT_TIMEOUT + 15_000);
  }, 60_000);
});
