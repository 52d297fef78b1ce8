// Boots a Nest application context with Ballast from a CommonJS app, on embedded PGlite (no
// server), uses the cache once and closes. Run with node; exits 0 on success.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BallastModule, CacheService, QueueService, RateLimitService, seconds } from 'nestjs-ballast';

@Module({ imports: [BallastModule.forRoot({ postgres: { embedded: {} }, queue: { workers: false } })] })
class AppModule {}

async function main(): Promise<void> {
  if (typeof require !== 'function' || typeof module !== 'object') throw new Error('not running as CommonJS');
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
  try {
    const cache = app.get(CacheService);
    await cache.set('consumer:cjs', { ok: true }, { ttl: seconds(30) });
    const value = await cache.get<{ ok: boolean }>('consumer:cjs');
    if (value?.ok !== true) throw new Error(`cache round trip gave ${JSON.stringify(value)}`);
    app.get(QueueService);
    app.get(RateLimitService);
  } finally {
    await app.close();
  }
  console.log('cjs consumer: booted BallastModule on embedded PGlite, cache round trip ok, closed');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
