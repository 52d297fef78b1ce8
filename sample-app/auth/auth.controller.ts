import { Body, Controller, Get, HttpCode, Post, Req, UnauthorizedException } from '@nestjs/common';
import { RateLimit, SkipRateLimit } from '../../lib/index.js';
import type { DemoUser } from './demo-auth.middleware.js';

/** The demo's only password; any user name works with it. */
export const DEMO_PASSWORD = 'correct horse battery staple';

@Controller('auth')
export class AuthController {
  /**
   * Brute-force protection: the `login` policy (5 attempts per 15 minutes per client address) on top
   * of the global `api` policy. Failed and successful attempts count alike.
   */
  @Post('login')
  @HttpCode(200)
  @RateLimit('login')
  login(@Body() body: { username?: unknown; password?: unknown }): { token: string } {
    if (typeof body?.username !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(body.username) || body.password !== DEMO_PASSWORD) {
      throw new UnauthorizedException('wrong user name or password');
    }
    return { token: `demo-${body.username}` };
  }

  /** Counted per signed-in user (`per-user` policy, `key: 'user'`); anonymous callers per address. */
  @Get('me')
  @RateLimit('per-user')
  me(@Req() req: { user?: DemoUser; raw?: { user?: DemoUser } }): DemoUser {
    const user = req.user ?? req.raw?.user;
    if (!user) throw new UnauthorizedException('sign in first');
    return user;
  }

  /** Static and cheap: exempt from every policy, the global one included. */
  @Get('password-rules')
  @SkipRateLimit()
  passwordRules(): { minLength: number } {
    return { minLength: 12 };
  }
}
