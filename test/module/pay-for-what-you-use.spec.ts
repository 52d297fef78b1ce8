import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import pg from 'pg';
import request from 'supertest';
import { BallastModule, RateLimit, RateLimitGuard, RateLimitService, type BallastModuleOptions } from '../../lib/index.js';
import { BallastConnections } from '../../lib/core/connections/ballast-connections.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-env.js';
import { uniquePrefix, uniqueSchema } from '../support/unique-name.js';

@Controller('limited')
class LimitedController {
  @Get()
  @RateLimit({ name: 'pay-test', limit: 2, window: 60_000 })
  hit(): string {
    return 'ok';
  }
}

@Controller('open')
class OpenController {
  @Get()
  hit(): string {
    return 'ok';
  }
}

/** Every line Nest logs, so a test can say what was (not) started. */
class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown): void {
    this.lines.push(String(message));
  }
}

/** Sets env vars for one test, as an app's environment would, and puts them back after. */
function withEnv(vars: Record<string, string>): () => void {
  const before = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [key, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

async function boot(options: BallastModuleOptions, controllers: Array<new () => unknown>): Promise<{ app: INestApplication; logger: RecordingLogger }> {
  const logger = new RecordingLogger();
  const moduleRef = await Test.createTestingModule({ imports: [BallastModule.forRoot(options)], controllers }).setLogger(logger).compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.init();
  return { app, logger };
}

/**
 * An app pays only for the services it uses: nothing is opened, migrated or installed for a service
 * it neither configures nor declares. Rate limits on Redis alone start no embedded Postgres and
 * create no table on a Postgres server; an app without rate limits runs no guard on its requests.
 */
describe('an app pays only for what it uses', () => {
  let app: INestApplication | undefined;
  let restoreEnv: (() => void) | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    restoreEnv?.();
    restoreEnv = undefined;
  });

  it("forRoot({ rateLimit: { provider: 'redis' } }) with REDIS_URL, using only rate limits, starts no PGlite", async () => {
    restoreEnv = withEnv({ REDIS_URL: TEST_REDIS_URL, BALLAST_KEY_PREFIX: uniquePrefix('pay') });
    let logger: RecordingLogger;
    ({ app, logger } = await boot({ rateLimit: { provider: 'redis' } }, [LimitedController]));
    const server = app.getHttpServer();
    await request(server).get('/limited').expect(200);
    await request(server).get('/limited').expect(200);
    await request(server).get('/limited').expect(429);
    expect((await app.get(RateLimitService).consume('a-client', { name: 'pay-service', limit: 5, window: 60_000 })).allowed).toBe(true);

    expect(app.get(BallastConnections).openProviders()).toEqual(['redis']);
    expect(logger.lines.filter((line) => /PGlite|Postgres/.test(line))).toEqual([]);
  });

  it('with DATABASE_URL set as well, creates no schema and no table on the Postgres server', async () => {
    const schema = uniqueSchema('pay');
    restoreEnv = withEnv({ REDIS_URL: TEST_REDIS_URL, DATABASE_URL: TEST_DATABASE_URL, BALLAST_SCHEMA: schema, BALLAST_KEY_PREFIX: uniquePrefix('pay') });
    ({ app } = await boot({ rateLimit: { provider: 'redis' } }, [LimitedController]));
    await request(app.getHttpServer()).get('/limited').expect(200);
    await app.close();
    app = undefined;

    expect(await schemaExists(schema)).toBe(false);
  });

  it('runs no rate-limit guard on the requests of an app that uses no rate limits', async () => {
    restoreEnv = withEnv({ BALLAST_KEY_PREFIX: uniquePrefix('pay') });
    ({ app } = await boot({ redis: { url: TEST_REDIS_URL }, cache: { provider: 'redis' } }, [OpenController]));
    const guarded = countGuardCalls(app);
    await request(app.getHttpServer()).get('/open').expect(200);
    expect(guarded()).toBe(0);
    expect(app.get(BallastConnections).openProviders()).toEqual(['redis']);
  });

  it('runs the guard once rate limits are configured, on every request', async () => {
    restoreEnv = withEnv({ BALLAST_KEY_PREFIX: uniquePrefix('pay') });
    ({ app } = await boot({ redis: { url: TEST_REDIS_URL }, rateLimit: { provider: 'redis' } }, [OpenController]));
    const guarded = countGuardCalls(app);
    await request(app.getHttpServer()).get('/open').expect(200);
    await request(app.getHttpServer()).get('/open').expect(200);
    expect(guarded()).toBe(2);
  });
});

/** Counts the calls of the app's RateLimitGuard from now on (it still decides as before). */
function countGuardCalls(app: INestApplication): () => number {
  const guard = app.get(RateLimitGuard);
  const original = guard.canActivate.bind(guard);
  let calls = 0;
  guard.canActivate = (context) => {
    calls++;
    return original(context);
  };
  return () => calls;
}

async function schemaExists(schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = $1', [schema]);
    return rows[0]!.n > 0;
  } finally {
    await client.end();
  }
}
