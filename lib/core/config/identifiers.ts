/**
 * Identifiers that reach SQL text (schema, LISTEN channels) are checked once here; values never
 * reach SQL text at all. Lower case only, so a quoted and an unquoted use name the same object.
 */
export const SAFE_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Redis key prefixes: printable, no glob characters (they go into SCAN MATCH patterns), no spaces. */
export const SAFE_KEY_PREFIX = /^[A-Za-z0-9_:.\-]{1,64}$/;

export function isSafeIdentifier(value: unknown): value is string {
  return typeof value === 'string' && SAFE_IDENTIFIER.test(value);
}

export function isSafeKeyPrefix(value: unknown): value is string {
  return typeof value === 'string' && SAFE_KEY_PREFIX.test(value);
}

/** Double-quotes an identifier that already passed `isSafeIdentifier`. */
export function quoteIdentifier(identifier: string): string {
  if (!isSafeIdentifier(identifier)) throw new Error(`unsafe SQL identifier ${JSON.stringify(identifier)}`);
  return `"${identifier}"`;
}
