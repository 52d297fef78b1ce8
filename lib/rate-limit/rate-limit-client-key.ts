import type { ExecutionContext } from '@nestjs/common';
import { clientAddress } from './client-address.js';
import type { RateLimitKey } from './rate-limit-policy.interface.js';

/**
 * The key a request is counted under for one policy, prefixed by its kind (`ip:`, `user:`, `key:`)
 * so a user id can never collide with an address. Unknown users and empty custom keys fall back
 * to the address; a request without any address shares the `ip:unknown` budget.
 */
export async function rateLimitClientKey(kind: RateLimitKey, context: ExecutionContext, request: unknown): Promise<string> {
  if (kind === 'user') {
    const id = userId(request);
    if (id !== undefined) return `user:${id}`;
  } else if (typeof kind === 'function') {
    const custom = await kind(context);
    if (typeof custom === 'string' && custom !== '') return customClientKey(custom);
  }
  return `ip:${clientAddress(request) ?? 'unknown'}`;
}

/**
 * `req.user.id` as authentication left it (Passport and most guards set `req.user`). On Fastify,
 * Nest middleware sees the raw Node request, so a user set there is found on `request.raw`.
 */
function userId(request: unknown): string | undefined {
  const req = request as { user?: { id?: unknown }; raw?: { user?: { id?: unknown } } } | undefined;
  const id = req?.user?.id ?? req?.raw?.user?.id;
  return typeof id === 'string' || typeof id === 'number' || typeof id === 'bigint' ? String(id) : undefined;
}

/**
 * A custom key as the guard counts it: jobs under `@Job({ rateLimit: { key } })` are counted the
 * same way, so a route keyed by an account id and a job keyed by that id share one budget.
 */
export function customClientKey(key: string): string {
  return `key:${key}`;
}
