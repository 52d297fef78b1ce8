import { inlinePolicyName } from './inline-policy-name.js';
import { RATE_LIMIT_METADATA } from './rate-limit.constants.js';
import type { RateLimitPolicy } from './rate-limit-policy.interface.js';

/**
 * Limits a controller (every handler) or a handler. Takes policy names from `rateLimit.policies`
 * and/or inline policies; every policy must allow a request, and a request one rejects takes from
 * none. Stacked decorators add up; a handler's policies replace its class's. Global policies
 * (`rateLimit.global`) apply in addition.
 *
 * ```ts
 * @RateLimit('login')
 * @RateLimit({ limit: 5, window: minutes(1), algorithm: 'token-bucket' })
 * ```
 *
 * A named policy's budget is shared by every route using the name. An inline policy without `name`
 * is named after where it is declared (`AuthController.login`, or `AuthController` on the class),
 * so each route, or each controller, has a budget of its own. Only writes metadata; the guard reads
 * it per request, and the names are checked at boot.
 */
export function RateLimit(...policies: Array<string | RateLimitPolicy>): ClassDecorator & MethodDecorator {
  return (target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor): void => {
    // Nest reads handler metadata from the method itself and class metadata from the constructor.
    const holder: object = descriptor ? (descriptor.value as object) : target;
    const scope = descriptor ? `${(target as { constructor: { name: string } }).constructor.name}.${String(propertyKey)}` : (target as { name: string }).name;
    const existing = (Reflect.getOwnMetadata(RATE_LIMIT_METADATA, holder) as Array<string | RateLimitPolicy> | undefined) ?? [];
    let inlineCount = existing.filter((entry) => typeof entry !== 'string').length;
    const added = policies.map((policy) => {
      if (typeof policy === 'string') return policy;
      inlineCount++;
      // Named once here, so the object (and its validation, cached by identity) is stable.
      return { ...policy, name: policy.name ?? inlinePolicyName(scope, inlineCount) };
    });
    Reflect.defineMetadata(RATE_LIMIT_METADATA, [...existing, ...added], holder);
  };
}
