import type { Redis } from 'ioredis';

/**
 * Deletes every key that starts with `prefix`, `count` keys per page: SCAN + UNLINK, never KEYS
 * (it blocks the server) nor FLUSHDB (it deletes other apps' keys).
 */
export async function unlinkByPrefix(redis: Redis, prefix: string, count: number): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', count);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}
