import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { BallastExceptionFilter, BallastModule, type BallastModuleOptions } from '../lib/index.js';
import { CatalogModule } from './catalog/catalog.module.js';
import { HealthController } from './health.controller.js';
import { AuthModule } from './auth/auth.module.js';
import { AccountsModule } from './accounts/accounts.module.js';
import { sampleRateLimits } from './rate-limit.config.js';

/**
 * The sample app. With no options Ballast reads env (CACHE_PROVIDER, DATABASE_URL, REDIS_URL, ...)
 * and falls back to embedded Postgres, so it runs with zero servers. Tests pass options directly.
 */
@Module({})
export class AppModule {
  static forRoot(ballast: BallastModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      // The sample's rate limits; options passed in (tests: provider, failure policy) win over them.
      imports: [BallastModule.forRoot({ ...ballast, rateLimit: { ...sampleRateLimits, ...ballast.rateLimit } }), CatalogModule, AuthModule, AccountsModule],
      controllers: [HealthController],
      // Ballast's input errors (a bad cache key, job data JSON cannot carry) answer 400, store outages 503.
      providers: [{ provide: APP_FILTER, useClass: BallastExceptionFilter }],
    };
  }
}
