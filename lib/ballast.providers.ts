import type { Provider } from '@nestjs/common';
import { BALLAST_CONFIG } from './ballast.constants.js';
import { BALLAST_MODULE_OPTIONS } from './ballast.module-definition.js';
import type { BallastModuleOptions } from './ballast-options.interface.js';
import { resolveBallastConfig } from './config/resolve-config.js';
import { BallastConnections } from './connections/ballast-connections.js';
import { cacheStoreProvider } from './cache/cache-store.provider.js';
import { CacheService } from './cache/cache.service.js';

/**
 * The module's providers: the resolved config (env read here, at boot, so a bad value fails the
 * boot), the connection registry, and per service a store factory that picks the backend plus the
 * service users inject.
 */
export const ballastProviders: Provider[] = [
  {
    provide: BALLAST_CONFIG,
    inject: [BALLAST_MODULE_OPTIONS],
    useFactory: (options: BallastModuleOptions | undefined) => resolveBallastConfig(options ?? {}, process.env),
  },
  BallastConnections,
  cacheStoreProvider,
  CacheService,
];

/** What `BallastModule` exports to the app. */
export const ballastExports = [CacheService, BALLAST_CONFIG];
