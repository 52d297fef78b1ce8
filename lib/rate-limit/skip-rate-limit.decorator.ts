import { SetMetadata } from '@nestjs/common';
import { SKIP_RATE_LIMIT_METADATA } from './rate-limit.constants.js';

/**
 * Exempts a controller or handler from rate limiting: from every policy, global ones included, or
 * only from the named ones (`@SkipRateLimit('api')`). A handler's setting replaces its class's.
 */
export function SkipRateLimit(...policies: string[]): ClassDecorator & MethodDecorator {
  return SetMetadata(SKIP_RATE_LIMIT_METADATA, policies.length > 0 ? policies : true);
}
