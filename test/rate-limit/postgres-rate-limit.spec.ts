import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import pg from 'pg';
import { BallastModule, BallastTimeoutError, minutes, RateLimit, RateLimitService, seconds, type RateLimitPolicy } from '../../lib/index.js';
import { setupBackend, type BackendSetup } from '../support/backends.js';
import { bootBallast } from '../support/boot.js';
import { FakeClock } from '../support/fake-clock.js';
import { closeSharedPglite, sharedPglite } from '../support/shared-pglite.js';
import { TEST_DATABASE_URL } from '../support/test-env.js';
import { waitFor } from '../support/wait-for.js';
import { tableLocker } from '../support/table-locker.js';

afterAll(closeSharedPglite);

/**
 * The Postgres store with an injected clock: exact window edges, sliding weights and refill times,
 * which the real-clock contract suite can only bound. Then pruning, the durable table, and a store
 * that hangs. FakeClock starts on a minute boundary.
 */
describe.each(['postgres', 'pglite'] as const)('postgres rate-limit store on %s', (backend) => {
  let setup: BackendSetup;
  let moduleRef: TestingModule;
  let limiter: RateLimitService;
  let clock: FakeClock;

  async function sql<R>(text: string): Promise<R[]> {
    if (backend === 'pglite') return (await (await sharedPglite()).query<R>(text)).rows;
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      return (await client.query(text)).rows as R[];
    } finally {
      await client.end();
    }
  }

  beforeEach(async () => {
    setup = await setupBackend(backend, 'rl_pg');
    clock = new FakeClock();
    moduleRef = await bootBallast({ ...setup.options, clock, rateLimit: { pruneIntervalMs: 50 } });
    limiter = moduleRef.get(RateLimitService);
  });

  afterEach(async () => {
    await moduleRef.close();
    await setup.cleanup();
  });

  it('fixed window: the 11th call waits exactly for the window edge', async () => {
    const policy: RateLimitPolicy = { name: 'fw', limit: 10, window: minutes(1), algorithm: 'fixed-window' };
    clock.advance(seconds(1));
    expect(await limiter.consume('k', policy, { cost: 10 })).toMatchObject({ allowed: true, remaining: 0, resetMs: seconds(59) });
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: seconds(59) });
    clock.advance(seconds(59) - 1);
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.advance(1);
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: true, remaining: 9, resetMs: minutes(1) });
  });

  it('sliding window: a quarter into the next window, the previous one still weighs 75%', async () => {
    const policy: RateLimitPolicy = { name: 'sw', limit: 10, window: minutes(1), algorithm: 'sliding-window' };
    clock.advance(seconds(30));
    expect((await limiter.consume('k', policy, { cost: 10 })).allowed).toBe(true);
    clock.advance(seconds(45)); // 15 s into the next window: load = 10 * 0.75 = 7.5
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: true, remaining: 1 });
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: true, remaining: 0 });
    // 9.5 + 1 > 10. Room for one more when 10 * weight + 2 + 1 <= 10: weight 0.7, 18 s in.
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: seconds(3) });
    clock.advance(seconds(3) - 1);
    expect((await limiter.consume('k', policy)).allowed).toBe(false);
    clock.advance(1);
    expect((await limiter.consume('k', policy)).allowed).toBe(true);
    // Everything is gone two windows after the one that holds the latest calls began.
    expect((await limiter.peek('k', policy)).resetMs).toBe(minutes(2) - seconds(18));
  });

  it('a decision stamped before a window edge that lands after a later one counts in the later window', async () => {
    // Statements take "now" before they wait for the row lock; a clock stepping back over the edge
    // replays that order. The late call must not reset the counter nor drop the previous window.
    const fixed: RateLimitPolicy = { name: 'fw-late', limit: 10, window: minutes(1), algorithm: 'fixed-window' };
    const sliding: RateLimitPolicy = { name: 'sw-late', limit: 10, window: minutes(1), algorithm: 'sliding-window' };
    clock.advance(seconds(30));
    expect((await limiter.consume('f', fixed, { cost: 10 })).allowed).toBe(true);
    expect((await limiter.consume('s', sliding, { cost: 10 })).allowed).toBe(true);
    clock.advance(seconds(31)); // 1 s into the next window
    expect(await limiter.consume('f', fixed, { cost: 3 })).toMatchObject({ allowed: true, remaining: 7 });
    expect((await limiter.consume('s', sliding, { cost: 10 })).allowed).toBe(false);
    clock.advance(-seconds(2)); // a call stamped 1 s before the edge, decided now
    expect(await limiter.consume('f', fixed, { cost: 3 })).toMatchObject({ allowed: true, remaining: 4, resetMs: minutes(1) });
    expect(await limiter.consume('f', fixed, { cost: 5 })).toMatchObject({ allowed: false, remaining: 4 });
    // The previous window weighs fully at the later window's start: 10 of 10 in use.
    expect(await limiter.consume('s', sliding)).toMatchObject({ allowed: false, remaining: 0 });
    clock.advance(seconds(2));
    expect(await limiter.consume('f', fixed, { cost: 4 })).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limiter.consume('f', fixed)).toMatchObject({ allowed: false });
  });

  it('token bucket: one unit per window/limit, exactly', async () => {
    const policy: RateLimitPolicy = { name: 'tb', limit: 10, window: seconds(10), algorithm: 'token-bucket' };
    expect(await limiter.consume('k', policy, { cost: 10 })).toMatchObject({ allowed: true, remaining: 0, resetMs: seconds(10) });
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: false, retryAfterMs: seconds(1) });
    clock.advance(seconds(1) - 1);
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.advance(1);
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: true, remaining: 0 });
    clock.advance(seconds(4));
    expect(await limiter.peek('k', policy)).toMatchObject({ allowed: true, remaining: 4, resetMs: seconds(6) });
    // A call of cost 0 records the refill; a clock that then steps back refills nothing, nor takes back.
    expect(await limiter.consume('k', policy, { cost: 0 })).toMatchObject({ allowed: true, remaining: 4 });
    clock.advance(-seconds(3));
    expect(await limiter.peek('k', policy)).toMatchObject({ remaining: 4 });
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: true, remaining: 3 });
  });

  it('prunes counters that no longer matter, and only those', async () => {
    const short: RateLimitPolicy = { name: 'short', limit: 5, window: seconds(1), algorithm: 'fixed-window' };
    const long: RateLimitPolicy = { name: 'long', limit: 5, window: minutes(10), algorithm: 'sliding-window' };
    for (const key of ['a', 'b', 'c']) await limiter.consume(key, short);
    await limiter.consume('a', long);
    const count = async () => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM "${setup.schema}".rate_limits`))[0]!.n);
    expect(await count()).toBe(4);
    clock.advance(seconds(5));
    await waitFor('expired counters to be pruned', async () => (await count()) === 1, 10_000, 25);
    expect((await limiter.peek('a', long)).remaining).toBe(4);
  });

  it('keeps durable policies in a logged table and the rest in an unlogged one', async () => {
    await limiter.consume('k', { name: 'contract', limit: 5, window: minutes(1), durable: true });
    await limiter.consume('k', { name: 'abuse', limit: 5, window: minutes(1) });
    const tables = await sql<{ relname: string; relpersistence: string; n: string }>(
      `SELECT c.relname, c.relpersistence,
              (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text AS n
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = '${setup.schema}' AND c.relname LIKE 'rate_limits%' AND c.relkind = 'r' ORDER BY c.relname`,
    );
    expect(tables).toEqual([
      { relname: 'rate_limits', relpersistence: 'u', n: '1' },
      { relname: 'rate_limits_durable', relpersistence: 'p', n: '1' },
    ]);
    expect((await limiter.peek('k', { name: 'contract', limit: 5, window: minutes(1), durable: true })).remaining).toBe(4);
  });
});

describe('postgres rate-limit store that hangs', () => {
  it.each(['allow', 'deny'] as const)("a call blocked by a lock ends at timeoutMs and onStoreError '%s' decides", async (onStoreError) => {
    const setup = await setupBackend('postgres', 'rl_lock');
    const moduleRef = await bootBallast({ ...setup.options, rateLimit: { timeoutMs: 200, onStoreError } });
    const locker = await tableLocker();
    try {
      const limiter = moduleRef.get(RateLimitService);
      const policy: RateLimitPolicy = { name: 'locked', limit: 5, window: minutes(1) };
      expect((await limiter.consume('k', policy)).storeError).toBeUndefined();
      await locker.lock(setup.schema, 'rate_limits');
      const started = Date.now();
      const result = await limiter.consume('k', policy);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(result.storeError).toBeInstanceOf(BallastTimeoutError);
      expect(result).toMatchObject({ allowed: onStoreError === 'allow', remaining: onStoreError === 'allow' ? 5 : 0 });
      await locker.release();
      await waitFor('the store to answer again', async () => (await limiter.consume('k', policy)).storeError === undefined, 5000);
    } finally {
      await locker.close();
      await moduleRef.close();
      await setup.cleanup();
    }
  });
});

describe('postgres rate-limit store opening', () => {
  @Controller('limited')
  class LimitedController {
    @Get()
    @RateLimit({ limit: 5, window: minutes(1) })
    get(): string {
      return 'ok';
    }
  }

  const tables = async (schema: string) => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'rate_limits%'`, [schema]);
      return rows[0]!.n;
    } finally {
      await client.end();
    }
  };

  it('opens at boot when a route is limited by an inline policy alone, so no request waits for the tables', async () => {
    const setup = await setupBackend('postgres', 'rl_open');
    @Module({ imports: [BallastModule.forRoot({ ...setup.options })], controllers: [LimitedController] })
    class LimitedModule {}
    const moduleRef = await Test.createTestingModule({ imports: [LimitedModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
      expect(await tables(setup.schema)).toBe(2);
    } finally {
      await app.close();
      await setup.cleanup();
    }
  });

  it('creates nothing for an app that limits no route and names no policy', async () => {
    const setup = await setupBackend('postgres', 'rl_unused');
    const moduleRef = await bootBallast({ ...setup.options });
    try {
      expect(await tables(setup.schema)).toBe(0);
    } finally {
      await moduleRef.close();
      await setup.cleanup();
    }
  });
});

