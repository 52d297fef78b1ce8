import type { Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RATE_LIMIT_CONFIG, type ResolvedRateLimitConfig } from './resolve-rate-limit-config.js';
import { RateLimitExplorer } from './rate-limit.explorer.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { RateLimitService } from './rate-limit.service.js';

/**
 * DI token: whether the app uses rate limits (configured, or declared by `@RateLimit` / a global
 * policy). Provided by the module, which knows what opens at boot.
 */
export const RATE_LIMITS_USED = Symbol('RATE_LIMITS_USED');

/**
 * The guard for every route, decided at boot from the resolved config (so `forRootAsync` and env
 * work too): the real guard when the app uses rate limits (configured, `@RateLimit` on a route, or a
 * global policy) and `rateLimit.guard` is on. Otherwise `null`, which Nest skips: no guard runs on
 * any request (with `guard: false`, `@UseGuards(RateLimitGuard)` is the app's choice).
 */
const globalGuardProvider: Provider = {
  provide: APP_GUARD,
  inject: [RATE_LIMIT_CONFIG, RATE_LIMITS_USED, RateLimitGuard],
  useFactory: (config: ResolvedRateLimitConfig, used: boolean, guard: RateLimitGuard) => (used && config.guard ? guard : null),
};


/** The rate limiter's part of the module: its service, guard and boot-time checks (its store comes from the module's driver registry). */
export const rateLimitProviders: Provider[] = [
  RateLimitService,
  RateLimitGuard,
  globalGuardProvider,
  // Needs DiscoveryService, which the module's DiscoveryModule import provides.
  RateLimitExplorer,
];
export const rateLimitExports = [RateLimitService, RateLimitGuard];
