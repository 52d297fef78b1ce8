import type { FactoryProvider } from '@nestjs/common';
import { BALLAST_CONFIG } from '../ballast.constants.js';
import type { BallastConfig } from '../core/config/ballast-core-config.js';
import { BallastConnections } from '../core/connections/ballast-connections.js';
import { BullmqQueueBackend } from '../drivers/bullmq/bullmq-queue.backend.js';
import { LazyQueueBackend } from './lazy-queue.backend.js';
import { openPostgresQueueBackend } from '../drivers/postgres/queue/postgres-queue.backend-factory.js';
import { QueueBackend } from './queue-backend.interface.js';

/**
 * Builds the configured `QueueBackend`, opened on first use (see `LazyQueueBackend`): Postgres
 * migrates its tables first, then runs our SKIP LOCKED runner; Valkey/Redis runs on BullMQ.
 */
export const queueBackendProvider: FactoryProvider<LazyQueueBackend> = {
  provide: QueueBackend,
  inject: [BALLAST_CONFIG, BallastConnections],
  useFactory: (config: BallastConfig, connections: BallastConnections): LazyQueueBackend => {
    const { provider, pollIntervalMs, defaultTimeout, durableEnqueue, maxStalls } = config.queue;
    return new LazyQueueBackend(provider, async () => {
      if (provider !== 'postgres') return new BullmqQueueBackend(provider, connections.redis(provider), config.keyPrefix, { defaultTimeout, maxStalledCount: maxStalls });
      return openPostgresQueueBackend(await connections.postgres(), config.schema, { pollIntervalMs, durableEnqueue, maxStalls });
    });
  },
};
