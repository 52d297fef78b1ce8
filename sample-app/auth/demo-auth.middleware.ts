import { Injectable, type NestMiddleware } from '@nestjs/common';

/** What the demo authentication leaves on the request, as Passport would. */
export interface DemoUser {
  id: string;
}

/**
 * Stand-in for real authentication: `Authorization: Bearer demo-<id>` makes the request user `<id>`.
 * It runs as middleware, before every guard, so the rate-limit guard's `key: 'user'` sees the user.
 * (On Fastify, middleware gets the raw Node request; the guard looks there too.)
 */
@Injectable()
export class DemoAuthMiddleware implements NestMiddleware {
  use(req: { headers: Record<string, string | string[] | undefined>; user?: DemoUser }, _res: unknown, next: () => void): void {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer demo-([A-Za-z0-9_-]{1,64})$/.exec(header) : null;
    if (match) req.user = { id: match[1]! };
    next();
  }
}
