import type { Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { BALLAST_CONFIG } from '../ballast.constants.js';
import type { BallastConfig } from '../core/config/ballast-core-config.js';
import { rateLimitStoreProvider } from './rate-limit-store.provider.js';
import { RateLimitExplorer } from './rate-limit.explorer.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { RateLimitService } from './rate-limit.service.js';

/**
 * The guard for every route, decided at boot from the resolved config (so `forRootAsync` and env
 * work too): the real guard, or with `rateLimit.guard: false` one that lets everything through and
 * leaves `@UseGuards(RateLimitGuard)` to the app.
 */
const globalGuardProvider: Provider = {
  provide: APP_GUARD,
  inject: [BALLAST_CONFIG, RateLimitGuard],
  useFactory: (config: BallastConfig, guard: RateLimitGuard) => (config.rateLimit.guard ? guard : { canActivate: () => true }),
};

/** The rate limiter's part of the module: its store (picked by config), service, guard and boot-time checks. */
export const rateLimitProviders: Provider[] = [
  rateLimitStoreProvider,
  RateLimitService,
  RateLimitGuard,
  globalGuardProvider,
  // Needs DiscoveryService, which the module's DiscoveryModule import provides.
  RateLimitExplorer,
];
export const rateLimitExports = [RateLimitService, RateLimitGuard];
