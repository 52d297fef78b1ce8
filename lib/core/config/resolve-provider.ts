import { PROVIDER_NAMES, type ProviderName } from '../../common/provider-name.js';
import { BallastConfigError } from '../../errors/ballast-config.error.js';
import type { BallastEnv } from './ballast-env.js';
import { pickOption } from './pick-option.js';

/**
 * A service's provider: the option in code, else its env var, else `postgres`. Case and
 * surrounding spaces are forgiven in env values; anything else unknown fails the boot.
 */
/** Whether the app chose the provider (in code or env) rather than taking the default. */
export function providerChosen(option: unknown, env: BallastEnv, envVar: string): boolean {
  return pickOption(option, 'provider', env, envVar) !== undefined;
}

export function resolveProvider(option: unknown, key: string, env: BallastEnv, envVar: string): ProviderName {
  const chosen = pickOption(option, key, env, envVar);
  if (!chosen) return 'postgres';
  const value = typeof chosen.value === 'string' ? chosen.value.trim().toLowerCase() : chosen.value;
  if (!(PROVIDER_NAMES as readonly unknown[]).includes(value)) {
    throw new BallastConfigError(chosen.key, chosen.value, PROVIDER_NAMES.map((p) => `'${p}'`).join(', '));
  }
  return value as ProviderName;
}
