import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createSampleApp, type HttpPlatform } from '../../sample-app/create-app.js';
import { ProductLookupService } from '../../sample-app/catalog/product-lookup.service.js';
import { setupBackend, type BackendSetup } from '../support/backends.js';
import { closeSharedPglite } from '../support/shared-pglite.js';

afterAll(closeSharedPglite);

/** The sample app's cached endpoint, through HTTP, on both platforms, with the zero-server (PGlite) setup. */
describe.each(['express', 'fastify'] as const)('sample app catalog on %s', (platform: HttpPlatform) => {
  let setup: BackendSetup;
  let app: INestApplication;

  beforeEach(async () => {
    setup = await setupBackend('pglite', 'sample');
    app = await createSampleApp(platform, { ...setup.options }, { logger: false });
    await app.init();
    if (platform === 'fastify') await app.getHttpAdapter().getInstance().ready();
  });

  afterEach(async () => {
    await app.close();
    await setup.cleanup();
  });

  it('serves a slow lookup once and then from the cache', async () => {
    const lookup = app.get(ProductLookupService);
    const server = app.getHttpServer();
    // Five cold requests at once: single-flight runs the 300 ms lookup once for all of them.
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => request(server).get('/products/7').expect(200)));
    expect(lookup.calls).toBe(1);
    const first = concurrent[0]!;
    expect(first.body).toMatchObject({ id: '7', name: 'Product 7' });
    for (const response of concurrent) expect(response.body).toEqual(first.body);
    const again = await request(server).get('/products/7').expect(200);
    expect(again.body).toEqual(first.body);
    expect(lookup.calls).toBe(1);

    await request(server).delete('/products/7/cache').expect(200, { deleted: true });
    await request(server).get('/products/7').expect(200);
    expect(lookup.calls).toBe(2);
  });

  it('reports the backends on /health', async () => {
    const response = await request(app.getHttpServer()).get('/health').expect(200);
    expect(response.body).toEqual({ status: 'ok', cache: 'postgres', queue: 'postgres', rateLimit: 'postgres' });
  });

  it('answers 400, not 500, for an id that cannot be a cache key', async () => {
    const response = await request(app.getHttpServer()).get('/products/a%00b').expect(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 400, error: 'InvalidKeyError', detail: expect.stringContaining('NUL') });
  });
});
