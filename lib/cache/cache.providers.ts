import type { Provider } from '@nestjs/common';
import { CacheService } from './cache.service.js';

/** The cache's part of the module: the service users inject (its store comes from the module's driver registry). */
export const cacheProviders: Provider[] = [CacheService];
export const cacheExports = [CacheService];
