import type { JobBackoff } from '../job-store.interface.js';

/** Longest retry delay the runner schedules (the column is a 32-bit integer of ms, about 24 days). */
export const MAX_RETRY_DELAY_MS = 2_147_483_647;

/**
 * Delay in ms before the next attempt, after attempt number `attempt` (1-based) failed: `delay`, or
 * `delay * 2^(attempt - 1)`, minus up to `jitter` of it at random. `random` is injectable for tests.
 */
export function retryDelay(backoff: JobBackoff, attempt: number, random: () => number = Math.random): number {
  const base = backoff.type === 'exponential' ? backoff.delay * 2 ** Math.max(0, attempt - 1) : backoff.delay;
  const jittered = base * (1 - Math.min(1, Math.max(0, backoff.jitter)) * random());
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(0, Math.round(jittered)));
}
