import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createSampleApp, type HttpPlatform } from '../../sample-app/create-app.js';
import { WelcomeEmailJob } from '../../sample-app/accounts/welcome-email.job.js';
import { setupBackend, type BackendSetup } from '../support/backends.js';
import { closeSharedPglite } from '../support/shared-pglite.js';
import { waitFor } from '../support/wait-for.js';

afterAll(closeSharedPglite);

/** Signup enqueues the welcome email; the sample's `@Job` handler sends it. Both platforms, zero servers (PGlite). */
describe.each(['express', 'fastify'] as const)('sample app signup on %s', (platform: HttpPlatform) => {
  let setup: BackendSetup;
  let app: INestApplication;

  beforeEach(async () => {
    setup = await setupBackend('pglite', 'signup');
    app = await createSampleApp(platform, { ...setup.options, queue: { pollIntervalMs: 200 } }, { logger: false });
    await app.init();
    if (platform === 'fastify') await app.getHttpAdapter().getInstance().ready();
  });

  afterEach(async () => {
    await app.close();
    await setup.cleanup();
  });

  it('enqueues the welcome email on signup and sends it once, however often the form is sent', async () => {
    const server = app.getHttpServer();
    const mailer = app.get(WelcomeEmailJob);
    const first = await request(server).post('/signup').send({ email: 'Ada@Example.com' }).expect(202);
    expect(first.body).toEqual({ email: 'ada@example.com', jobId: expect.stringMatching(/^welcome-[A-Za-z0-9_-]{22}$/) });
    const again = await request(server).post('/signup').send({ email: 'ada@example.com' }).expect(202);
    expect(again.body.jobId).toBe(first.body.jobId);
    // Addresses that differ only in characters outside a jobId's alphabet still get jobs of their own.
    const plus = await request(server).post('/signup').send({ email: 'a+b@example.com' }).expect(202);
    const underscore = await request(server).post('/signup').send({ email: 'a_b@example.com' }).expect(202);
    expect(plus.body.jobId).not.toBe(underscore.body.jobId);

    const done = await waitFor('the welcome email job to complete', async () => {
      const status = await request(server).get(`/signup/${encodeURIComponent(first.body.jobId)}`);
      return status.status === 200 && status.body.state === 'completed' ? status.body : undefined;
    }, 10_000, 50);
    expect(done).toEqual({ jobId: first.body.jobId, state: 'completed', attemptsMade: 1, result: { messageId: `welcome-${first.body.jobId}` } });
    await waitFor('the other two welcome emails', () => mailer.sent.length === 3, 10_000, 50);
    expect(mailer.sent.map((mail) => mail.to).sort()).toEqual(['a+b@example.com', 'a_b@example.com', 'ada@example.com']);
  });

  it('answers 400 for a bad body and 404 for an unknown job', async () => {
    const server = app.getHttpServer();
    await request(server).post('/signup').send({ email: 'not an email' }).expect(400);
    await request(server).post('/signup').send({}).expect(400);
    await request(server).get('/signup/welcome-nobody').expect(404);
    // Not even a possible job id: still a 404.
    await request(server).get('/signup/no%20such%3Ajob').expect(404);
  });

  it('answers 400, not 500, for data the queue cannot store (Ballast\'s input errors through BallastExceptionFilter)', async () => {
    const server = app.getHttpServer();
    // Valid JSON text holding half an emoji: JSON.parse gives a lone surrogate, which no store keeps.
    const response = await request(server).post('/signup').set('Content-Type', 'application/json').send('{"email":"\\ud83d@example.com"}').expect(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 400, title: 'Bad Request', error: 'SerializationError' });
  });
});
