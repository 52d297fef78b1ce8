import { BallastConfigError } from '../../errors/ballast-config.error.js';

/** Reads an optional whole-number option: `fallback` when unset, `BallastConfigError` when not an integer >= `min`. */
export function readInteger(value: unknown, key: string, bounds: { min: number; fallback: number }): number {
  if (value === undefined) return bounds.fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < bounds.min) {
    throw new BallastConfigError(key, value, `an integer >= ${bounds.min}`);
  }
  return value;
}
