import type { FactoryProvider } from '@nestjs/common';
import { BALLAST_CONFIG } from '../ballast.constants.js';
import type { BallastConfig } from '../core/config/ballast-core-config.js';
import { BallastConnections } from '../core/connections/ballast-connections.js';
import { BullmqQueueBackend } from '../drivers/bullmq/bullmq-queue.backend.js';
import { LazyQueueBackend } from './lazy-queue.backend.js';
import { openPostgresJobStore } from '../drivers/postgres/queue/open-postgres-job-store.js';
import { QueueBackend } from './queue-backend.interface.js';
import { JobStoreBackend } from './runner/job-store.backend.js';

/**
 * Builds the configured `QueueBackend`, opened on first use (see `LazyQueueBackend`): Postgres
 * migrates its tables first, then runs the SQL runner on them; Valkey/Redis runs on BullMQ.
 */
export const queueBackendProvider: FactoryProvider<LazyQueueBackend> = {
  provide: QueueBackend,
  inject: [BALLAST_CONFIG, BallastConnections],
  useFactory: (config: BallastConfig, connections: BallastConnections): LazyQueueBackend => {
    const { provider, pollIntervalMs, durableEnqueue, maxStalls } = config.queue;
    return new LazyQueueBackend(provider, async () => {
      if (provider !== 'postgres') return new BullmqQueueBackend(provider, connections.redis(provider), config.keyPrefix, { maxStalledCount: maxStalls });
      const { store, wakeup } = await openPostgresJobStore(await connections.postgres(), config.schema, { durableEnqueue });
      return new JobStoreBackend('postgres', store, wakeup, `Postgres queue (schema "${config.schema}")`, { pollIntervalMs, maxStalls });
    });
  },
};
