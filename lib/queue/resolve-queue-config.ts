import type { BallastEnv } from '../core/config/ballast-env.js';
import type { ProviderName } from '../common/provider-name.js';
import { readBoolean, readFlag } from '../core/config/read-flag.js';
import { readInteger } from '../core/config/read-integer.js';
import { resolveProvider, serviceConfigured } from '../core/config/resolve-provider.js';
import type { QueueOptions } from './queue-options.interface.js';

/** Times a job may lose its worker and go back to the queue before it fails. */
export const DEFAULT_MAX_STALLS = 3;

/** The queue's options after env and defaults. */
export interface ResolvedQueueConfig {
  provider: ProviderName;
  /** The app gave `queue` options or `QUEUE_PROVIDER`: the queue opens at boot (as it does for `@Job` handlers), else on first use. */
  configured: boolean;
  workers: boolean;
  pollIntervalMs: number;
  shutdownTimeoutMs: number;
  defaultLeaseMs: number;
  timeoutMs: number;
  durableEnqueue: boolean;
  maxStalls: number;
}

/** Queue options plus env (`QUEUE_PROVIDER`, `BALLAST_WORKERS`) and defaults, validated. */
export function resolveQueueConfig(given: QueueOptions | undefined, env: BallastEnv): ResolvedQueueConfig {
  const options = given ?? {};
  return {
    provider: resolveProvider(options.provider, 'queue.provider', env, 'QUEUE_PROVIDER'),
    configured: serviceConfigured(given, env, 'QUEUE_PROVIDER'),
    workers: readFlag(options.workers, 'queue.workers', env, 'BALLAST_WORKERS', true),
    pollIntervalMs: readInteger(options.pollIntervalMs, 'queue.pollIntervalMs', { min: 10, fallback: 1000 }),
    shutdownTimeoutMs: readInteger(options.shutdownTimeoutMs, 'queue.shutdownTimeoutMs', { min: 0, fallback: 10_000 }),
    // A lease shorter than a heartbeat round trip would expire under a healthy worker.
    defaultLeaseMs: readInteger(options.defaultLeaseMs, 'queue.defaultLeaseMs', { min: 1000, fallback: 30_000 }),
    timeoutMs: readInteger(options.timeoutMs, 'queue.timeoutMs', { min: 1, fallback: 5000 }),
    durableEnqueue: readBoolean(options.durableEnqueue, 'queue.durableEnqueue', true),
    // A few crashes (a deploy that SIGKILLs, an OOM loop) must not dead-letter jobs that never threw.
    maxStalls: readInteger(options.maxStalls, 'queue.maxStalls', { min: 0, fallback: DEFAULT_MAX_STALLS }),
  };
}

/** DI token of the queue's `ResolvedQueueConfig`. */
export const QUEUE_CONFIG = Symbol('QUEUE_CONFIG');
