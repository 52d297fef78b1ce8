import type { BallastEnv } from './ballast-env.js';
import { pickOption } from './pick-option.js';
import { BallastConfigError } from '../../errors/ballast-config.error.js';

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/**
 * A boolean option that an env var can also set: the option (a boolean) wins; the env var is a
 * word (`true/false/1/0/yes/no/on/off`, any case). Anything else fails the boot naming the key.
 */
export function readFlag(option: unknown, key: string, env: BallastEnv, envVar: string, fallback: boolean): boolean {
  const chosen = pickOption(option, key, env, envVar);
  if (!chosen) return fallback;
  if (typeof chosen.value === 'boolean') return chosen.value;
  // Env values are words; a boolean option given as anything else is a mistake worth failing on.
  if (chosen.key === envVar && typeof chosen.value === 'string') {
    const word = chosen.value.trim().toLowerCase();
    if (TRUE_WORDS.includes(word)) return true;
    if (FALSE_WORDS.includes(word)) return false;
    throw new BallastConfigError(chosen.key, chosen.value, `one of ${[...TRUE_WORDS, ...FALSE_WORDS].map((w) => `'${w}'`).join(', ')}`);
  }
  throw new BallastConfigError(chosen.key, chosen.value, 'true or false');
}

/** A boolean option no env var sets: `readFlag` without the env. */
export function readBoolean(option: unknown, key: string, fallback: boolean): boolean {
  return readFlag(option, key, {}, '', fallback);
}
