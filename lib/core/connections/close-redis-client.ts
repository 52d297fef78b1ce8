import type { Redis } from 'ioredis';
import { settlesWithin } from '../../common/settles-within.js';

/** How long QUIT may wait for the replies still in flight. */
const QUIT_WAIT_MS = 1000;

/**
 * Closes a client Ballast opened. QUIT lets replies in flight arrive; a client that is not connected
 * has nothing to wait for (QUIT would sit in its offline queue while it reconnects), and a server
 * that stopped answering gets `QUIT_WAIT_MS` before the connection is dropped, so shutdown ends.
 */
export async function closeRedisClient(client: Redis): Promise<void> {
  if (client.status === 'ready' && (await settlesWithin(client.quit(), QUIT_WAIT_MS))) return;
  client.disconnect();
}
