import type { Redis } from 'ioredis';
import { systemClock } from '../../../common/clock.js';
import { closeRedisClient } from '../../../core/connections/close-redis-client.js';
import type { RedisProtocolProviderName } from '../../../common/provider-name.js';
import { ALGORITHM_CODES, type RateLimitAlgorithm } from '../../../rate-limit/rate-limit-algorithm.js';
import type { RateLimitState } from '../../../rate-limit/rate-limit-state.js';
import type { RateLimitStore, RateLimitStoreDecision, RateLimitStorePolicy } from '../../../rate-limit/rate-limit-store.interface.js';
import { FIXED_WINDOW_LUA } from './fixed-window.lua.js';
import { PEEK_LUA } from './peek.lua.js';
import { MAX_DECISIONS_PER_CALL, RedisDecisionBatcher } from './redis-decision.batcher.js';
import { REFUND_LUA } from './refund.lua.js';
import { RedisScript } from './redis-script.js';
import { SLIDING_WINDOW_LUA } from './sliding-window.lua.js';
import { TOKEN_BUCKET_LUA } from './token-bucket.lua.js';

const DECIDE: Readonly<Record<RateLimitAlgorithm, RedisScript>> = {
  'fixed-window': new RedisScript('fixed-window', FIXED_WINDOW_LUA),
  'sliding-window': new RedisScript('sliding-window', SLIDING_WINDOW_LUA),
  'token-bucket': new RedisScript('token-bucket', TOKEN_BUCKET_LUA),
};
const PEEK = new RedisScript('peek', PEEK_LUA);
const REFUND = new RedisScript('refund', REFUND_LUA);

/**
 * `RateLimitStore` on Valkey or Redis (>= 6.2): one Lua script per algorithm, one string key per
 * counter (`<prefix>rl:<policy>:<algorithm>:<hash>`). Decisions made in the same tick share one
 * script call (see `RedisDecisionBatcher`); on a server in cluster mode each call carries one key,
 * so no call spans two slots. `durable` has no meaning here: durability is the server's setting.
 *
 * `redis` is a client of the store's own (no offline queue); the store closes it.
 */
export class RedisRateLimitStore implements RateLimitStore {
  /**
   * Decisions in flight at most. The batcher sends each tick's decisions as a few script calls, so
   * this only bounds how much one flood puts on the server at once.
   */
  readonly maxConcurrentCalls = 4096;
  /** Decisions use the server's clock; from here, only durations of it matter. */
  readonly clock = systemClock;
  private readonly namespace: string;
  private readonly batchers: Readonly<Record<RateLimitAlgorithm, RedisDecisionBatcher>>;
  /** Until the server has said it is not a cluster, one key per call. */
  private perCall = 1;
  private readonly onReady = () => void this.detectCluster();

  constructor(
    readonly provider: RedisProtocolProviderName,
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    this.namespace = `${keyPrefix}rl:`;
    const batcher = (algorithm: RateLimitAlgorithm) => new RedisDecisionBatcher(redis, DECIDE[algorithm], () => this.perCall);
    this.batchers = { 'fixed-window': batcher('fixed-window'), 'sliding-window': batcher('sliding-window'), 'token-bucket': batcher('token-bucket') };
    // Checked on every (re)connect: a failover may land on a differently configured server.
    redis.on('ready', this.onReady);
    if (redis.status === 'ready') this.onReady();
  }

  consume(key: string, policy: RateLimitStorePolicy, cost: number, count: number): Promise<RateLimitStoreDecision> {
    return this.batchers[policy.algorithm].decide(this.namespace + key, policy.limit, policy.window, cost, count);
  }

  async peek(key: string): Promise<{ state: RateLimitState | undefined; now: number }> {
    const reply = (await PEEK.run(this.redis, [this.namespace + key], [])) as string;
    const [now, stored] = reply.split('|');
    if (!stored) return { state: undefined, now: Number(now) };
    const [start, used, prev] = stored.split(':');
    return { state: { windowStart: Number(start), used: Number(used), prevUsed: Number(prev) }, now: Number(now) };
  }

  async refund(key: string, policy: RateLimitStorePolicy, cost: number, windowStart: number): Promise<void> {
    await REFUND.run(this.redis, [this.namespace + key], [ALGORITHM_CODES[policy.algorithm], cost, windowStart, policy.window]);
  }

  async reset(key: string): Promise<void> {
    await this.redis.unlink(this.namespace + key);
  }

  async close(): Promise<void> {
    this.redis.off('ready', this.onReady);
    await closeRedisClient(this.redis);
  }

  private async detectCluster(): Promise<void> {
    try {
      const info = await this.redis.info('cluster');
      this.perCall = /cluster_enabled:1/.test(info) ? 1 : MAX_DECISIONS_PER_CALL;
    } catch {
      // Unknown: keep the safe setting; the next reconnect asks again.
    }
  }
}
