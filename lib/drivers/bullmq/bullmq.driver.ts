import type { RedisProtocolProviderName } from '../../common/provider-name.js';
import type { BallastDriver } from '../ballast-driver.interface.js';
import { BullmqQueueBackend } from './bullmq-queue.backend.js';

/** The queue on Valkey/Redis: BullMQ, which brings its own runner; Ballast's queue core drives it. */
export const bullmqQueueDriver: BallastDriver['queue'] = async ({ provider, core, connections, config }) => {
  const name = provider as RedisProtocolProviderName;
  return { kind: 'backend', backend: new BullmqQueueBackend(name, connections.redis(name), core.keyPrefix, { maxStalledCount: config.maxStalls }) };
};
