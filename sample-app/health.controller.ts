import { Controller, Get } from '@nestjs/common';
import { CacheService } from '../lib/index.js';

@Controller()
export class HealthController {
  constructor(private readonly cache: CacheService) {}

  /** Which backend each Ballast service runs on. */
  @Get('health')
  health(): { status: 'ok'; cache: string } {
    return { status: 'ok', cache: this.cache.provider };
  }
}
