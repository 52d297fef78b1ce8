import type { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { BallastDeclarations } from './ballast-config.js';
import { JOB_METADATA } from './queue/job.decorator.js';
import { RATE_LIMIT_METADATA } from './rate-limit/rate-limit.constants.js';

type Wrapper = ReturnType<DiscoveryService['getProviders']>[number];

/**
 * Whether the app declares jobs or rate limits, read from class metadata while the module is being
 * built: every module is scanned by then, though no provider exists yet. It decides what opens at
 * boot and whether the global guard is installed; the explorers validate the same metadata later.
 */
export function scanDeclarations(discovery: DiscoveryService, scanner: MetadataScanner): BallastDeclarations {
  const jobs = discovery.getProviders().some((wrapper) => declares(wrapper, scanner, JOB_METADATA, false));
  const rateLimits = discovery.getControllers().some((wrapper) => declares(wrapper, scanner, RATE_LIMIT_METADATA, true));
  return { jobs, rateLimits };
}

/** Whether the wrapper's class (or, with `onClass`, the class itself) carries `key` on any method. */
function declares(wrapper: Wrapper, scanner: MetadataScanner, key: string, onClass: boolean): boolean {
  const ctor = wrapper.metatype as (new (...args: never[]) => unknown) | null | undefined;
  if (typeof ctor !== 'function' || !ctor.prototype) return false;
  if (onClass && Reflect.getMetadata(key, ctor) !== undefined) return true;
  const prototype = ctor.prototype as Record<string, unknown>;
  return scanner.getAllMethodNames(prototype).some((method) => {
    const fn = prototype[method];
    return typeof fn === 'function' && Reflect.getMetadata(key, fn) !== undefined;
  });
}
