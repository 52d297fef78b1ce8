import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import pg from 'pg';
import { CacheService, minutes, seconds } from '../../lib/index.js';
import { BallastConnections } from '../../lib/core/connections/ballast-connections.js';
import type { SqlDatabase } from '../../lib/core/connections/sql-client.js';
import { quoteIdentifier } from '../../lib/core/config/identifiers.js';
import { BALLAST_LOCK_CLASS } from '../../lib/core/migrations/migrator.js';
import { PostgresCacheSweeper } from '../../lib/drivers/postgres/cache/postgres-cache.sweeper.js';
import { setupBackend, type BackendSetup } from '../support/backends.js';
import { bootBallast } from '../support/boot.js';
import { FakeClock } from '../support/fake-clock.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { TEST_DATABASE_URL } from '../support/test-env.js';
import { waitFor } from '../support/wait-for.js';

afterAll(closeSharedPglite);

/**
 * The Postgres store's own behaviour: expiry against an injected clock (no sleeping), the sweeper's
 * bounded batches, the maxEntries bound and the cross-process sweep lock.
 */
describe.each(['postgres', 'pglite'] as const)('Postgres cache store on %s', (backend) => {
  let setup: BackendSetup;
  let moduleRef: TestingModule;
  let cache: CacheService;
  let db: SqlDatabase;
  let clock: FakeClock;

  const rowCount = async () => {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoteIdentifier(setup.schema)}.cache_entries`);
    return rows[0]!.n;
  };
  const sweeper = (settings: { batchSize?: number; maxEntries?: number } = {}) =>
    new PostgresCacheSweeper(db, setup.schema, quoteIdentifier(setup.schema), clock, {
      intervalMs: minutes(1),
      batchSize: settings.batchSize ?? 1000,
      maxEntries: settings.maxEntries,
    });

  beforeEach(async () => {
    setup = await setupBackend(backend, 'sweep');
    clock = new FakeClock();
    moduleRef = await bootBallast({ ...setup.options, clock, cache: { provider: 'postgres', sweepIntervalMs: minutes(10) } });
    cache = moduleRef.get(CacheService);
    db = await moduleRef.get(BallastConnections).postgres();
  });

  afterEach(async () => {
    await moduleRef.close();
    await setup.cleanup();
  });

  it('stores entries in an UNLOGGED table', async () => {
    const { rows } = await db.query<{ relpersistence: string }>(
      `SELECT c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = 'cache_entries'`,
      [setup.schema],
    );
    expect(rows).toEqual([{ relpersistence: 'u' }]);
  });

  it('hides an expired entry at once, before any sweep', async () => {
    await cache.set('k', 'v', { ttl: seconds(10) });
    clock.advance(seconds(9));
    expect(await cache.get('k')).toBe('v');
    expect(await cache.ttl('k')).toBe(seconds(1));
    clock.advance(seconds(1));
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.has('k')).toBe(false);
    expect(await cache.del('k')).toBe(false);
    await cache.set('k2', 'v', { ttl: seconds(1) });
    clock.advance(seconds(2));
    expect(await rowCount()).toBe(1);
  });

  it('sweeps expired rows in bounded batches and keeps live ones', async () => {
    await cache.mset(Array.from({ length: 250 }, (_, i) => ({ key: `old${i}`, value: i, ttl: seconds(5) })));
    await cache.mset(Array.from({ length: 20 }, (_, i) => ({ key: `live${i}`, value: i, ttl: minutes(5) })));
    await cache.set('forever', true);
    clock.advance(seconds(6));
    const result = await sweeper({ batchSize: 100 }).sweep();
    expect(result).toEqual({ expired: 250, evicted: 0, more: false });
    expect(await rowCount()).toBe(21);
    expect(await cache.get('live7')).toBe(7);
    expect(await cache.get('forever')).toBe(true);
  });

  it('evicts the soonest-expiring entries past maxEntries, entries without TTL last', async () => {
    await cache.set('forever', 'kept');
    await cache.mset(Array.from({ length: 30 }, (_, i) => ({ key: `e${i}`, value: i, ttl: minutes(1) + i * 1000 })));
    const result = await sweeper({ batchSize: 7, maxEntries: 10 }).sweep();
    expect(result).toEqual({ expired: 0, evicted: 21, more: false });
    expect(await rowCount()).toBe(10);
    expect(await cache.get('forever')).toBe('kept');
    // The nine latest-expiring entries survive.
    expect(await cache.mget(['e20', 'e21', 'e29'])).toEqual([undefined, 21, 29]);
  });

  it('runs on the configured interval without a manual call', async () => {
    await moduleRef.close();
    moduleRef = await bootBallast({ ...setup.options, clock, cache: { provider: 'postgres', sweepIntervalMs: 20 } });
    cache = moduleRef.get(CacheService);
    db = await moduleRef.get(BallastConnections).postgres();
    await cache.set('k', 'v', { ttl: 1000 });
    clock.advance(2000);
    await waitFor('the timer-driven sweep to delete the expired row', async () => (await rowCount()) === 0, 5000);
  });
});

describe('Postgres cache sweep lock (server)', () => {
  it('skips the sweep while another process holds the sweep lock', async () => {
    const setup = await setupBackend('postgres', 'sweeplock');
    const clock = new FakeClock();
    const moduleRef = await bootBallast({ ...setup.options, clock, cache: { provider: 'postgres', sweepIntervalMs: minutes(10) } });
    const other = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await other.connect();
    try {
      const cache = moduleRef.get(CacheService);
      const db = await moduleRef.get(BallastConnections).postgres();
      const sweeper = new PostgresCacheSweeper(db, setup.schema, quoteIdentifier(setup.schema), clock, {
        intervalMs: minutes(1),
        batchSize: 100,
        maxEntries: undefined,
      });
      await cache.set('k', 'v', { ttl: 1000 });
      clock.advance(2000);
      await other.query('SELECT pg_advisory_lock($1, hashtext($2))', [BALLAST_LOCK_CLASS, `cache-sweep:${setup.schema}`]);
      expect(await sweeper.sweep()).toEqual({ expired: 0, evicted: 0, more: false });
      await other.query('SELECT pg_advisory_unlock($1, hashtext($2))', [BALLAST_LOCK_CLASS, `cache-sweep:${setup.schema}`]);
      expect(await sweeper.sweep()).toEqual({ expired: 1, evicted: 0, more: false });
    } finally {
      await other.end();
      await moduleRef.close();
      await setup.cleanup();
    }
  });
});

/**
 * Under churn the sweeper keeps up by itself: it keeps deleting while full batches come back (within
 * a time budget per sweep, then again soon), instead of stopping after a fixed number of batches per
 * interval while the table grows. Real clock, a real server: 5,000 expiring writes a second for 6 s,
 * with batches of 20 rows so that a fixed cap per interval could not keep up.
 */
describe('Postgres cache sweeper under churn', () => {
  it('holds the table flat under a steady 5,000 expiring writes a second', async () => {
    const setup = await setupBackend('postgres', 'churn');
    const moduleRef = await bootBallast({ ...setup.options, cache: { provider: 'postgres', sweepIntervalMs: 1000, sweepBatchSize: 20 } });
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      const cache = moduleRef.get(CacheService);
      const count = async () => (await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${setup.schema}".cache_entries`)).rows[0]!.n;
      const samples: number[] = [];
      const started = Date.now();
      let written = 0;
      for (let tick = 0; Date.now() - started < 6000; tick++) {
        // 500 entries every 100 ms, each living 200 ms.
        const due = started + tick * 100;
        if (Date.now() < due) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        await cache.mset(Array.from({ length: 500 }, (_, i) => ({ key: `churn:${tick}:${i}`, value: tick, ttl: 200 })));
        written += 500;
        if (tick % 10 === 9) samples.push(await count());
      }
      const rate = written / ((Date.now() - started) / 1000);
      console.log(`cache churn: ${Math.round(rate)} expiring writes/s, rows each second: ${samples.join(', ')}`);
      expect(rate).toBeGreaterThan(3000);
      // What can be live or awaiting the next sweep: 200 ms of writes plus a sweep interval and its slack.
      const bound = rate * (0.2 + 1 + 1);
      expect(Math.max(...samples.slice(1))).toBeLessThan(bound);
      // Flat: the last seconds hold no more than the first ones did (a sweeper falling behind grows by thousands a second).
      expect(Math.max(...samples.slice(-2))).toBeLessThan(Math.max(...samples.slice(0, 3)) + rate * 0.5);
    } finally {
      await admin.end();
      await moduleRef.close();
      await setup.cleanup();
    }
  }, 60_000);
});
