import { createHash } from 'node:crypto';

/** Longest policy name (`SAFE_POLICY_NAME`); it appears in headers and stored keys. */
const MAX_NAME = 64;

/**
 * The name of an inline policy declared without one: where it is declared (`AuthController.login`,
 * `AuthController` on the class), with `.2`, `.3` ... for further inline policies in one place.
 * Characters a policy name may not hold become `_`, and a name too long is cut and given a short
 * hash of the whole, so any class and method name gives a valid, stable, distinct name.
 */
export function inlinePolicyName(scope: string, ordinal: number): string {
  const full = ordinal === 1 ? scope : `${scope}.${ordinal}`;
  const safe = full.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (safe === full && full.length <= MAX_NAME) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 10);
  return `${safe.slice(0, MAX_NAME - hash.length - 1)}.${hash}`;
}
