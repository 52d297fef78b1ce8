import type { FactoryProvider } from '@nestjs/common';
import { BALLAST_CONFIG, type BallastConfig, type BallastServiceName } from './ballast-config.js';
import { CacheStore } from './cache/cache-store.interface.js';
import type { ProviderName } from './common/provider-name.js';
import { BallastConnections } from './core/connections/ballast-connections.js';
import { StoreHandle } from './core/store-handle.js';
import type { DriverContext } from './drivers/ballast-driver.interface.js';
import { DRIVERS } from './drivers/driver.registry.js';
import { QueueBackend } from './queue/queue-backend.interface.js';
import { JobStoreBackend } from './queue/runner/job-store.backend.js';
import { RateLimitStore } from './rate-limit/rate-limit-store.interface.js';

type Opened = { close(): Promise<void> };

/**
 * The store of one service, as a `StoreHandle` under the service's token: the provider's driver
 * opens it, at boot when `config.atBoot` names the service (Nest awaits this factory, so the app is
 * not ready until the store is, and an unreachable one fails the boot within `bootTimeoutMs`),
 * otherwise on first use.
 */
function storeProvider<T extends Opened>(
  token: symbol,
  service: BallastServiceName,
  bootStep: (provider: ProviderName) => string,
  open: (config: BallastConfig, context: Omit<DriverContext<never>, 'config'>) => Promise<T>,
): FactoryProvider<StoreHandle<T>> {
  return {
    provide: token,
    inject: [BALLAST_CONFIG, BallastConnections],
    useFactory: async (config: BallastConfig, connections: BallastConnections): Promise<StoreHandle<T>> => {
      const provider = config[service].provider;
      const handle = new StoreHandle(provider, service, () => open(config, { provider, core: config.core, connections }));
      if (config.atBoot.has(service)) await connections.openAtBoot(handle, bootStep(provider));
      return handle;
    },
  };
}

/** The three services' stores, each from its provider's driver. */
export const storeProviders: FactoryProvider[] = [
  storeProvider(
    CacheStore,
    'cache',
    (provider) => (provider === 'postgres' ? 'creating the cache tables' : 'connecting for the cache'),
    (config, context) => DRIVERS[context.provider].cache({ ...context, config: config.cache }),
  ),
  storeProvider(
    QueueBackend,
    'queue',
    () => 'opening the queue',
    async (config, context) => {
      const opened = await DRIVERS[context.provider].queue({ ...context, config: config.queue });
      if (opened.kind === 'backend') return opened.backend;
      // A store of tables runs with the SQL runner.
      const { pollIntervalMs, maxStalls } = config.queue;
      return new JobStoreBackend(context.provider, opened.store, opened.wakeup, opened.label, { pollIntervalMs, maxStalls });
    },
  ),
  storeProvider(
    RateLimitStore,
    'rateLimit',
    () => 'opening the rate-limit store',
    (config, context) => DRIVERS[context.provider].rateLimit({ ...context, config: config.rateLimit }),
  ),
];
