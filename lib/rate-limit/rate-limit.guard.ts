import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { RATE_LIMIT_CONFIG, type ResolvedRateLimitConfig } from './resolve-rate-limit-config.js';
import type { ResolvedRateLimitPolicy } from './resolve-rate-limit-policy.js';
import type { RateLimitPolicy } from './rate-limit-policy.interface.js';
import { RATE_LIMIT_METADATA, SKIP_RATE_LIMIT_METADATA } from './rate-limit.constants.js';
import { rateLimitClientKey } from './rate-limit-client-key.js';
import { rateLimitHeaders, toSeconds, type PolicyOutcome } from './rate-limit.headers.js';
import { RateLimitExceededException } from './rate-limit-exceeded.exception.js';
import { RateLimitUnavailableException } from './rate-limit-unavailable.exception.js';
import { RateLimitService } from './rate-limit.service.js';

/**
 * Requests already decided. A request is counted once even when the guard runs twice for it
 * (registered globally and in `@UseGuards`, or two guard instances from two modules). Weak, so it
 * holds no request past its life.
 */
const decided = new WeakSet<object>();

/**
 * Applies the route's policies (its `@RateLimit`, else its class's) plus the global ones, minus
 * `@SkipRateLimit`, to each HTTP request; other contexts (GraphQL, WebSocket, RPC) pass through and
 * call `RateLimitService` themselves. Registered for every route by the module unless
 * `rateLimit.guard` is `false`; routes without policies cost one metadata lookup.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly settings: ResolvedRateLimitConfig;

  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimitService,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(RATE_LIMIT_CONFIG) config: ResolvedRateLimitConfig,
  ) {
    this.settings = config;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const policies = this.policiesFor(context);
    if (policies.length === 0) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<object>();
    if (decided.has(request)) return true;
    decided.add(request);

    const keys = await Promise.all(policies.map((policy) => rateLimitClientKey(policy.key, context, request)));
    const { allowed, results } = await this.limiter.consumeAll(policies.map((policy, i) => ({ key: keys[i]!, policy })));
    const outcomes: PolicyOutcome[] = policies.map((policy, i) => ({ policy, result: results[i]! }));

    const response = http.getResponse<object>();
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of rateLimitHeaders(outcomes, { draft: this.settings.headers, legacy: this.settings.legacyHeaders })) {
      adapter.setHeader(response, name, value);
    }
    if (allowed) return true;

    adapter.setHeader(response, 'Content-Type', 'application/problem+json');
    const limited = outcomes.filter((o) => !o.result.allowed && o.result.storeError === undefined);
    if (limited.length === 0) {
      throw new RateLimitUnavailableException(outcomes.filter((o) => !o.result.allowed).map((o) => o.policy.name));
    }
    // Every policy must pass, so the client has to wait for the slowest one.
    const retryAfter = toSeconds(Math.max(...limited.map((o) => o.result.retryAfterMs)));
    adapter.setHeader(response, 'Retry-After', String(retryAfter));
    throw new RateLimitExceededException(
      limited.map((o) => o.policy.name),
      retryAfter,
    );
  }

  /**
   * Global policies plus the route's, each once, minus skipped ones. The handler wins: its own
   * `@SkipRateLimit()` exempts it from everything, and its own `@RateLimit` always applies, even on a
   * class marked `@SkipRateLimit()` (the class's skip then exempts it only from the global and class
   * policies). Without either on the handler, the class's settings apply.
   */
  private policiesFor(context: ExecutionContext): ResolvedRateLimitPolicy[] {
    const handler = context.getHandler();
    const controller = context.getClass();
    const handlerSkip = this.reflector.get<true | string[] | undefined>(SKIP_RATE_LIMIT_METADATA, handler);
    if (handlerSkip === true) return [];
    const own = this.reflector.get<Array<string | RateLimitPolicy> | undefined>(RATE_LIMIT_METADATA, handler);
    const skip = handlerSkip ?? this.reflector.get<true | string[] | undefined>(SKIP_RATE_LIMIT_METADATA, controller);
    const inherited = own === undefined ? (this.reflector.get<Array<string | RateLimitPolicy> | undefined>(RATE_LIMIT_METADATA, controller) ?? []) : [];
    if (skip === true && own === undefined) return [];
    if ((own?.length ?? 0) + inherited.length + this.settings.global.length === 0) return [];

    const byName = new Map<string, ResolvedRateLimitPolicy>();
    const add = (entry: string | RateLimitPolicy, skipped: true | string[] | undefined) => {
      const policy = this.limiter.resolve(entry, '@RateLimit');
      if (skipped !== true && !skipped?.includes(policy.name)) byName.set(policy.name, policy);
    };
    for (const entry of [...this.settings.global, ...inherited]) add(entry, skip);
    // Only the handler's own skip list can drop the handler's own policies.
    for (const entry of own ?? []) add(entry, handlerSkip);
    return [...byName.values()];
  }
}
