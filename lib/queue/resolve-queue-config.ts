import type { BallastEnv } from '../config/ballast-env.js';
import type { ProviderName } from '../common/provider-name.js';
import { pickOption } from '../config/pick-option.js';
import { readInteger } from '../config/read-integer.js';
import { resolveProvider } from '../config/resolve-provider.js';
import { BallastConfigError } from '../errors/ballast-config.error.js';
import type { QueueOptions } from './queue-options.interface.js';

/** The queue's options after env and defaults. */
export interface ResolvedQueueConfig {
  provider: ProviderName;
  workers: boolean;
  pollIntervalMs: number;
  shutdownTimeoutMs: number;
  defaultTimeout: number;
  timeoutMs: number;
  durableEnqueue: boolean;
  maxStalls: number;
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/** Queue options plus env (`QUEUE_PROVIDER`, `BALLAST_WORKERS`) and defaults, validated. */
export function resolveQueueConfig(options: QueueOptions = {}, env: BallastEnv): ResolvedQueueConfig {
  return {
    provider: resolveProvider(options.provider, 'queue.provider', env, 'QUEUE_PROVIDER'),
    workers: resolveWorkers(options.workers, env),
    pollIntervalMs: readInteger(options.pollIntervalMs, 'queue.pollIntervalMs', { min: 10, fallback: 1000 }),
    shutdownTimeoutMs: readInteger(options.shutdownTimeoutMs, 'queue.shutdownTimeoutMs', { min: 0, fallback: 10_000 }),
    // A lease shorter than a heartbeat round trip would expire under a healthy worker.
    defaultTimeout: readInteger(options.defaultTimeout, 'queue.defaultTimeout', { min: 1000, fallback: 30_000 }),
    timeoutMs: readInteger(options.timeoutMs, 'queue.timeoutMs', { min: 1, fallback: 5000 }),
    durableEnqueue: readBoolean(options.durableEnqueue, 'queue.durableEnqueue', true),
    maxStalls: readInteger(options.maxStalls, 'queue.maxStalls', { min: 0, fallback: 1 }),
  };
}

function readBoolean(value: unknown, key: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new BallastConfigError(key, value, 'true or false');
  return value;
}

function resolveWorkers(option: unknown, env: BallastEnv): boolean {
  const chosen = pickOption(option, 'queue.workers', env, 'BALLAST_WORKERS');
  if (!chosen) return true;
  if (typeof chosen.value === 'boolean') return chosen.value;
  // Env values are words; a boolean option given as anything else is a mistake worth failing on.
  if (chosen.key === 'BALLAST_WORKERS' && typeof chosen.value === 'string') {
    const word = chosen.value.trim().toLowerCase();
    if (TRUE_WORDS.includes(word)) return true;
    if (FALSE_WORDS.includes(word)) return false;
    throw new BallastConfigError(chosen.key, chosen.value, `one of ${[...TRUE_WORDS, ...FALSE_WORDS].map((w) => `'${w}'`).join(', ')}`);
  }
  throw new BallastConfigError(chosen.key, chosen.value, 'true or false');
}
