import type { Provider } from '@nestjs/common';
import { cacheStoreProvider } from './cache-store.provider.js';
import { CacheService } from './cache.service.js';

/** The cache's part of the module: its store (picked by config) and the service users inject. */
export const cacheProviders: Provider[] = [cacheStoreProvider, CacheService];
export const cacheExports = [CacheService];
