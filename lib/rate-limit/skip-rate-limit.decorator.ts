import { SetMetadata } from '@nestjs/common';
import { SKIP_RATE_LIMIT_METADATA } from './rate-limit.constants.js';

/**
 * Exempts a controller or handler from rate limiting: from every policy, global ones included, or
 * only from the named ones (`@SkipRateLimit('api')`). The handler wins: its own skip replaces its
 * class's, and its own `@RateLimit` applies even on a class marked `@SkipRateLimit()` (which then
 * exempts it only from the global and class policies).
 */
export function SkipRateLimit(...policies: string[]): ClassDecorator & MethodDecorator {
  return SetMetadata(SKIP_RATE_LIMIT_METADATA, policies.length > 0 ? policies : true);
}
