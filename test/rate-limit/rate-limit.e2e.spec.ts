import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { BallastModuleOptions } from '../../lib/index.js';
import { DEMO_PASSWORD } from '../../sample-app/auth/auth.controller.js';
import { createSampleApp, type HttpPlatform } from '../../sample-app/create-app.js';
import { setupBackend, type BackendSetup } from '../support/backends.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { closeSharedPglite } from '../support/shared-pglite.js';

afterAll(closeSharedPglite);


/**
 * The guard through the sample app over HTTP, on both platforms, with the sample's own policies:
 * `api` (global, 300/min per address), `login` (5 per 15 min per address) and `per-user`
 * (60/min token bucket keyed by `req.user.id`).
 */
describe.each(['express', 'fastify'] as const)('rate limiting in the sample app on %s', (platform: HttpPlatform) => {
  let setup: BackendSetup | undefined;
  let app: INestApplication | undefined;
  let redisServer: PrivateRedis | undefined;

  async function start(ballast: BallastModuleOptions = {}, trustProxy = false): Promise<ReturnType<INestApplication['getHttpServer']>> {
    setup = await setupBackend('pglite', 'rl_e2e');
    app = await createSampleApp(platform, { ...setup.options, ...ballast }, { logger: false, trustProxy });
    await app.init();
    if (platform === 'fastify') await app.getHttpAdapter().getInstance().ready();
    return app.getHttpServer();
  }

  afterEach(async () => {
    await app?.close();
    await redisServer?.stop();
    redisServer = undefined;
    await setup?.cleanup();
    app = undefined;
    setup = undefined;
  });

  it('sends the IETF and X-RateLimit headers on a route under the global policy', async () => {
    const server = await start();
    const first = await request(server).get('/time').expect(200);
    expect(first.headers['ratelimit-policy']).toBe('"api";q=300;w=60');
    // Sliding window: the quota is fully back once this window and the next have passed (61-120 s).
    const [, r, t] = /^"api";r=(\d+);t=(\d+)$/.exec(String(first.headers['ratelimit'])) ?? [];
    expect(r).toBe('299');
    expect(Number(t)).toBeGreaterThan(60);
    expect(Number(t)).toBeLessThanOrEqual(120);
    expect(first.headers['x-ratelimit-limit']).toBe('300');
    expect(first.headers['x-ratelimit-remaining']).toBe('299');
    expect(first.headers['x-ratelimit-reset']).toBe(t);
    const second = await request(server).get('/time').expect(200);
    expect(second.headers['ratelimit']).toMatch(/^"api";r=298;t=\d+$/);
    expect(second.headers['x-ratelimit-remaining']).toBe('298');
  });

  it('answers 429 with Retry-After and a problem body once login attempts run out; the rejected attempt costs nothing', async () => {
    const server = await start();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const response = await request(server).post('/auth/login').send({ username: 'alice', password: 'wrong' }).expect(401);
      // Both policies apply; the legacy trio describes the tighter one, login.
      expect(response.headers['ratelimit-policy']).toBe('"api";q=300;w=60, "login";q=5;w=900');
      expect(response.headers['ratelimit']).toMatch(new RegExp(`^"api";r=${300 - attempt};t=\\d+, "login";r=${5 - attempt};t=\\d+$`));
      expect(response.headers['x-ratelimit-remaining']).toBe(String(5 - attempt));
    }
    const limited = await request(server).post('/auth/login').send({ username: 'alice', password: DEMO_PASSWORD }).expect(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(2 * 900);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ type: 'about:blank', title: 'Too Many Requests', status: 429, policies: ['login'], retryAfter });
    expect(limited.headers['ratelimit']).toMatch(new RegExp(`^"api";r=295;t=\\d+, "login";r=0;t=${retryAfter}$`));
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.headers['x-ratelimit-reset']).toBe(String(retryAfter));
    // The rejected request was refunded to `api`: 5 taken so far, this one makes 6.
    const next = await request(server).get('/time').expect(200);
    expect(next.headers['x-ratelimit-remaining']).toBe('294');
  });

  it('limits sign-ups per address, rejected forms included (the guard runs before validation)', async () => {
    const server = await start();
    for (let i = 0; i < 10; i++) {
      const response = await request(server).post('/signup').send({ email: 'not an email' }).expect(400);
      expect(response.headers['ratelimit']).toMatch(new RegExp(`"signup";r=${9 - i};`));
    }
    const limited = await request(server).post('/signup').send({ email: 'ada@example.com' }).expect(429);
    expect(limited.body.policies).toEqual(['signup']);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('@SkipRateLimit exempts a route from every policy, the global one included', async () => {
    const server = await start();
    for (let i = 0; i < 3; i++) {
      const response = await request(server).get('/auth/password-rules').expect(200, { minLength: 12 });
      expect(response.headers['ratelimit']).toBeUndefined();
      expect(response.headers['ratelimit-policy']).toBeUndefined();
      expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    }
    // The health probe too: a liveness check must never get a 429.
    const health = await request(server).get('/health').expect(200);
    expect(health.headers['ratelimit']).toBeUndefined();
    expect(health.headers['x-ratelimit-limit']).toBeUndefined();
    const counted = await request(server).get('/time').expect(200);
    expect(counted.headers['x-ratelimit-remaining']).toBe('299');
  });

  it('counts signed-in users by id and anonymous callers by address', async () => {
    const server = await start();
    const perUser = (response: request.Response) => /"per-user";r=(\d+)/.exec(String(response.headers['ratelimit']))?.[1];
    const alice = { Authorization: 'Bearer demo-alice' };
    const bob = { Authorization: 'Bearer demo-bob' };
    expect(perUser(await request(server).get('/auth/me').set(alice).expect(200, { id: 'alice' }))).toBe('59');
    expect(perUser(await request(server).get('/auth/me').set(alice).expect(200))).toBe('58');
    // Same address, another user: a budget of its own.
    expect(perUser(await request(server).get('/auth/me').set(bob).expect(200, { id: 'bob' }))).toBe('59');
    expect(perUser(await request(server).get('/auth/me').expect(401))).toBe('59');
    expect(perUser(await request(server).get('/auth/me').expect(401))).toBe('58');
    expect(perUser(await request(server).get('/auth/me').set(alice).expect(200))).toBe('57');
  });

  it('ignores X-Forwarded-For unless the platform trusts the proxy', async () => {
    const server = await start();
    const remaining = async (forwardedFor: string) =>
      (await request(server).get('/time').set('X-Forwarded-For', forwardedFor).expect(200)).headers['x-ratelimit-remaining'];
    // A client cannot buy itself a fresh budget by sending a header.
    expect(await remaining('203.0.113.7')).toBe('299');
    expect(await remaining('203.0.113.8')).toBe('298');
  });

  it('keys by the forwarded client when the platform trusts the proxy', async () => {
    const server = await start({}, true);
    const remaining = async (forwardedFor: string) =>
      (await request(server).get('/time').set('X-Forwarded-For', forwardedFor).expect(200)).headers['x-ratelimit-remaining'];
    expect(await remaining('203.0.113.7')).toBe('299');
    expect(await remaining('203.0.113.7')).toBe('298');
    expect(await remaining('203.0.113.8')).toBe('299');
    // IPv6 clients share a budget per /64.
    expect(await remaining('2001:db8:1:2::1')).toBe('299');
    expect(await remaining('2001:db8:1:2:ffff::9')).toBe('298');
    expect(await remaining('2001:db8:1:3::1')).toBe('299');
  });

  /** The app boots on a Redis of the test's own, which then dies. */
  async function startThenLoseRedis(onStoreError: 'allow' | 'deny'): Promise<ReturnType<INestApplication['getHttpServer']>> {
    redisServer = await startPrivateRedis();
    const server = await start({ redis: { url: redisServer.url }, rateLimit: { provider: 'redis', onStoreError, timeoutMs: 300 } });
    await redisServer.kill();
    return server;
  }

  it("store down with onStoreError 'allow': requests pass, without rate-limit headers", async () => {
    const server = await startThenLoseRedis('allow');
    const started = Date.now();
    for (let i = 0; i < 3; i++) {
      const response = await request(server).post('/auth/login').send({ username: 'alice', password: DEMO_PASSWORD }).expect(200);
      expect(response.body).toEqual({ token: 'demo-alice' });
      expect(response.headers['ratelimit']).toBeUndefined();
      expect(response.headers['x-ratelimit-remaining']).toBeUndefined();
    }
    // Bounded by the timeout (plus a busy machine), never hung.
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it("store down with onStoreError 'deny': 503 with a problem body, the handler never runs", async () => {
    const server = await startThenLoseRedis('deny');
    const response = await request(server).post('/auth/login').send({ username: 'alice', password: DEMO_PASSWORD }).expect(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ title: 'Service Unavailable', status: 503 });
    expect(response.body.policies).toEqual(expect.arrayContaining(['api', 'login']));
    expect(response.headers['retry-after']).toBeUndefined();
    await request(server).get('/auth/password-rules').expect(200);
  });
});
