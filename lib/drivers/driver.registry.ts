import type { ProviderName } from '../common/provider-name.js';
import type { BallastDriver } from './ballast-driver.interface.js';
import { bullmqQueueDriver } from './bullmq/bullmq.driver.js';
import { postgresDriver } from './postgres/postgres.driver.js';
import { redisDriver } from './redis/redis.driver.js';

const redisProtocolDriver: BallastDriver = { ...redisDriver, queue: bullmqQueueDriver };

/** The driver of each provider. A new backend is a folder under `drivers/` and a line here. */
export const DRIVERS: Readonly<Record<ProviderName, BallastDriver>> = {
  postgres: postgresDriver,
  valkey: redisProtocolDriver,
  redis: redisProtocolDriver,
};
