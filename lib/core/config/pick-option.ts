import type { BallastEnv } from './ballast-env.js';

/** An option given in code wins over its env var; reports which of the two the value came from, for error messages. */
export function pickOption(option: unknown, key: string, env: BallastEnv, envVar: string): { value: unknown; key: string } | undefined {
  if (option !== undefined) return { value: option, key };
  const fromEnv = env[envVar];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, key: envVar };
  return undefined;
}
