import { PROVIDER_NAMES, type ProviderName } from '../../common/provider-name.js';
import { BallastConfigError } from '../../errors/ballast-config.error.js';
import type { BallastEnv } from './ballast-env.js';
import { pickOption } from './pick-option.js';

/**
 * Whether the app configured a service: gave its options block, or set its provider env var. A
 * configured service opens at boot; one that is neither configured nor declared opens on first use.
 */
export function serviceConfigured(options: object | undefined, env: BallastEnv, envVar: string): boolean {
  return options !== undefined || pickOption(undefined, 'provider', env, envVar) !== undefined;
}

/**
 * A service's provider: the option in code, else its env var, else `postgres`. Case and
 * surrounding spaces are forgiven in env values; anything else unknown fails the boot.
 */
export function resolveProvider(option: unknown, key: string, env: BallastEnv, envVar: string): ProviderName {
  const chosen = pickOption(option, key, env, envVar);
  if (!chosen) return 'postgres';
  const value = typeof chosen.value === 'string' ? chosen.value.trim().toLowerCase() : chosen.value;
  if (!(PROVIDER_NAMES as readonly unknown[]).includes(value)) {
    throw new BallastConfigError(chosen.key, chosen.value, PROVIDER_NAMES.map((p) => `'${p}'`).join(', '));
  }
  return value as ProviderName;
}
