import { Controller, Get } from '@nestjs/common';
import { CacheService, QueueService, RateLimitService, SkipRateLimit } from '../lib/index.js';

@Controller()
export class HealthController {
  constructor(
    private readonly cache: CacheService,
    private readonly queue: QueueService,
    private readonly limits: RateLimitService,
  ) {}

  /**
   * Which backend each Ballast service runs on. Exempt from rate limits: a liveness probe that got
   * a 429 would have the app restarted for being busy.
   */
  @Get('health')
  @SkipRateLimit()
  health(): { status: 'ok'; cache: string; queue: string; rateLimit: string } {
    return { status: 'ok', cache: this.cache.provider, queue: this.queue.provider, rateLimit: this.limits.provider };
  }

  /** A cheap route under the global `api` policy only, e.g. to watch the rate-limit headers. */
  @Get('time')
  time(): { now: string } {
    return { now: new Date().toISOString() };
  }
}
