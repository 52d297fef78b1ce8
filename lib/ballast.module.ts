import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import {
  BALLAST_ASYNC_OPTIONS_TYPE,
  BALLAST_OPTIONS_TYPE,
  BallastConfigurableModule,
} from './ballast.module-definition.js';
import { ballastExports, ballastProviders } from './ballast.providers.js';

/**
 * Cache, job queue and rate limits on the database the app already runs.
 *
 * ```ts
 * @Module({ imports: [BallastModule.forRoot()] })   // everything from env, embedded Postgres by default
 * ```
 */
// DiscoveryModule lets the queue find `@Job` and `@OnJobEvent` methods at bootstrap.
@Module({ imports: [DiscoveryModule], providers: ballastProviders, exports: ballastExports })
export class BallastModule extends BallastConfigurableModule {
  /** Options in code; anything left out comes from env (`CACHE_PROVIDER`, `DATABASE_URL`, ...). */
  static override forRoot(options: typeof BALLAST_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  /** Options from a factory, e.g. one that injects `ConfigService`. */
  static override forRootAsync(options: typeof BALLAST_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}
