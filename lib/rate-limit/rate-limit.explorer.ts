import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { BALLAST_CONFIG } from '../ballast.constants.js';
import type { BallastConfig } from '../core/config/ballast-core-config.js';
import { UnknownRateLimitPolicyError } from '../errors/unknown-rate-limit-policy.error.js';
import type { RateLimitPolicy } from './rate-limit-policy.interface.js';
import { RATE_LIMIT_METADATA, SKIP_RATE_LIMIT_METADATA } from './rate-limit.constants.js';
import { LazyRateLimitStore } from './lazy-rate-limit.store.js';
import { openAtBoot } from './rate-limit-store.provider.js';
import { BallastConnections } from '../core/connections/ballast-connections.js';
import { RateLimitStore } from './rate-limit-store.interface.js';
import { RateLimitService } from './rate-limit.service.js';

/**
 * Checks every `@RateLimit` and `@SkipRateLimit` of every controller once, at boot: an unknown
 * policy name or an invalid inline policy fails `app.init()` with an error naming the route,
 * instead of failing requests later. When any route is limited (or a global policy is set), it
 * also opens the store before the app is ready, so the first requests do not wait for a
 * connection or the counter tables inside their `timeoutMs`.
 */
@Injectable()
export class RateLimitExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly limiter: RateLimitService,
    @Inject(RateLimitStore) private readonly store: RateLimitStore,
    @Inject(BALLAST_CONFIG) private readonly config: BallastConfig,
    private readonly connections: BallastConnections,
  ) {}

  async onModuleInit(): Promise<void> {
    let limited = this.config.rateLimit.global.length > 0;
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | null | undefined;
      if (!controller?.prototype) continue;
      limited = this.check(controller, controller.name) || limited;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        limited = this.check(prototype[method] as object, `${controller.name}.${method}`) || limited;
      }
    }
    if (limited && this.store instanceof LazyRateLimitStore) await openAtBoot(this.store, this.config, this.connections);
  }

  /** Validates the target's decorators; `true` when it declares any policy. */
  private check(target: object, where: string): boolean {
    const declared = this.reflector.get<Array<string | RateLimitPolicy> | undefined>(RATE_LIMIT_METADATA, target as never) ?? [];
    for (const policy of declared) this.limiter.resolve(policy, `@RateLimit on ${where}`);
    const skipped = this.reflector.get<true | string[] | undefined>(SKIP_RATE_LIMIT_METADATA, target as never);
    if (Array.isArray(skipped)) {
      for (const name of skipped) {
        if (!this.limiter.policies.has(name)) throw new UnknownRateLimitPolicyError(name, `@SkipRateLimit on ${where}`, [...this.limiter.policies.keys()]);
      }
    }
    return declared.length > 0;
  }
}
