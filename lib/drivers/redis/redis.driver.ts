import type { Redis } from 'ioredis';
import type { RedisProtocolProviderName } from '../../common/provider-name.js';
import type { BallastDriver } from '../ballast-driver.interface.js';
import { RedisCacheStore } from './cache/redis-cache.store.js';
import { RedisRateLimitStore } from './rate-limit/redis-rate-limit.store.js';

/** Valkey and Redis (one protocol, one code path): the cache and the rate limiter. The queue is BullMQ's (`bullmqQueueDriver`). */
export const redisDriver: Pick<BallastDriver, 'cache' | 'rateLimit'> = {
  async cache({ provider, core, connections }) {
    const name = provider as RedisProtocolProviderName;
    return new RedisCacheStore(name, connections.redis(name), core.keyPrefix);
  },

  async rateLimit({ provider, core, connections, config }) {
    const name = provider as RedisProtocolProviderName;
    // A client of the store's own, duplicated from the configured one (same server, credentials and
    // TLS), without an offline queue: while disconnected a call fails at once and `onStoreError`
    // decides. Queued calls would run when the server returns, long after their callers were
    // answered, and take units from budgets for requests already decided. The shared client, which
    // the cache and queue use, keeps its own settings. (No auto-pipelining: the store already sends
    // each tick's decisions as one call, and ioredis' pipelining would only add work.)
    const client = connections.redis(name).duplicate({ enableOfflineQueue: false, connectionName: 'ballast-rate-limit' });
    // Failures reach callers through the failure policy; without a listener ioredis would also print each one.
    client.on('error', () => undefined);
    await connected(client, config.timeoutMs);
    return new RedisRateLimitStore(name, client, core.keyPrefix);
  },
};

/**
 * Waits until the client is ready, its first connection attempt fails, or `timeoutMs` passes. Without
 * an offline queue, calls made before the first connection would fail; after a failure the client
 * keeps reconnecting in the background and calls fail fast until it is back.
 */
function connected(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.once('ready', done);
    client.once('error', done);
  });
}
