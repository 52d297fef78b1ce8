import * as crypto from 'node:crypto';
import { ALGORITHM_CODES } from './rate-limit-algorithm.js';
import type { ResolvedRateLimitPolicy } from './resolve-rate-limit-policy.js';

type OneShotHash = (algorithm: string, data: string, encoding: 'base64url') => string;

/** `crypto.hash` (Node >= 20.12) is twice as fast as `createHash` for short inputs; it is on every decision's path. */
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;
const sha256 = oneShot
  ? (data: string) => oneShot('sha256', data, 'base64url')
  : (data: string) => crypto.createHash('sha256').update(data).digest('base64url');

/**
 * The stored key for a caller's key under a policy: `<policy name>:<algorithm>:<digest>`. The
 * caller's key is hashed (SHA-256, first 132 bits, base64url), so whatever a client sends (an
 * address, a header value, a user id) becomes 22 characters: keys cannot grow the store or the
 * index, cannot carry Redis glob characters, and do not reveal addresses to whoever reads the store.
 */
export function rateLimitStorageKey(policy: Pick<ResolvedRateLimitPolicy, 'name' | 'algorithm'>, key: string): string {
  return `${policy.name}:${ALGORITHM_CODES[policy.algorithm]}:${sha256(key).slice(0, 22)}`;
}
