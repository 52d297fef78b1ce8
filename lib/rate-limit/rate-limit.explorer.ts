import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { UnknownRateLimitPolicyError } from '../errors/unknown-rate-limit-policy.error.js';
import type { RateLimitPolicy } from './rate-limit-policy.interface.js';
import { RATE_LIMIT_METADATA, SKIP_RATE_LIMIT_METADATA } from './rate-limit.constants.js';
import { RateLimitService } from './rate-limit.service.js';

/**
 * Checks every `@RateLimit` and `@SkipRateLimit` of every controller once, at boot: an unknown
 * policy name or an invalid inline policy fails `app.init()` with an error naming the route,
 * instead of failing requests later. (That a route is limited is seen earlier, from the same
 * metadata, by `scanDeclarations`: the store then opens at boot.)
 */
@Injectable()
export class RateLimitExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly limiter: RateLimitService,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | null | undefined;
      if (!controller?.prototype) continue;
      this.check(controller, controller.name);
      const prototype = controller.prototype as Record<string, unknown>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        this.check(prototype[method] as object, `${controller.name}.${method}`);
      }
    }
  }

  /** Validates the target's decorators. */
  private check(target: object, where: string): void {
    const declared = this.reflector.get<Array<string | RateLimitPolicy> | undefined>(RATE_LIMIT_METADATA, target as never) ?? [];
    for (const policy of declared) this.limiter.resolve(policy, `@RateLimit on ${where}`);
    const skipped = this.reflector.get<true | string[] | undefined>(SKIP_RATE_LIMIT_METADATA, target as never);
    if (Array.isArray(skipped)) {
      for (const name of skipped) {
        if (!this.limiter.policies.has(name)) throw new UnknownRateLimitPolicyError(name, `@SkipRateLimit on ${where}`, [...this.limiter.policies.keys()]);
      }
    }
  }
}
