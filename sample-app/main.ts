import { createSampleApp, type HttpPlatform } from './create-app.js';

/**
 * `npm run sample`: the sample app on PORT (default 3000). PLATFORM=fastify switches the HTTP
 * adapter; CACHE_PROVIDER, DATABASE_URL, VALKEY_URL and REDIS_URL switch Ballast's backends.
 */
async function main(): Promise<void> {
  const platform = (process.env.PLATFORM === 'fastify' ? 'fastify' : 'express') satisfies HttpPlatform;
  const app = await createSampleApp(platform, {}, { trustProxy: process.env.TRUST_PROXY === '1' });
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  console.log(`Ballast sample app (${platform}) listening on http://127.0.0.1:${port}`);
  console.log(`  try: curl http://127.0.0.1:${port}/products/42   (slow the first time, cached after)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
