import type { Provider } from '@nestjs/common';
import { BALLAST_CONFIG } from './ballast.constants.js';
import { BALLAST_MODULE_OPTIONS } from './ballast.module-definition.js';
import type { BallastModuleOptions } from './ballast-options.interface.js';
import { resolveBallastConfig } from './core/config/resolve-core-config.js';
import { BallastConnections } from './core/connections/ballast-connections.js';
import { cacheExports, cacheProviders } from './cache/cache.providers.js';
import { queueExports, queueProviders } from './queue/queue.providers.js';
import { rateLimitExports, rateLimitProviders } from './rate-limit/rate-limit.providers.js';

/**
 * The module's providers: the resolved config (env read here, at boot, so a bad value fails the
 * boot), the connection registry, and each service's own providers (its store factory, which picks
 * the backend, and the service users inject).
 */
export const ballastProviders: Provider[] = [
  {
    provide: BALLAST_CONFIG,
    inject: [BALLAST_MODULE_OPTIONS],
    useFactory: (options: BallastModuleOptions | undefined) => resolveBallastConfig(options ?? {}, process.env),
  },
  BallastConnections,
  ...cacheProviders,
  ...queueProviders,
  ...rateLimitProviders,
];

/** What `BallastModule` exports to the app. */
export const ballastExports = [BALLAST_CONFIG, ...cacheExports, ...queueExports, ...rateLimitExports];
