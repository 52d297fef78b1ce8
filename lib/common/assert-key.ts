import { InvalidKeyError } from '../errors/invalid-key.error.js';
import { isWellFormedText } from './well-formed-text.js';

/** Longest key Ballast accepts, in characters; keeps keys well inside Postgres' btree entry limit. */
export const MAX_KEY_LENGTH = 512;

/**
 * Throws `InvalidKeyError` unless `key` is a non-empty string of at most `MAX_KEY_LENGTH` characters
 * that every store keeps as given: no NUL (Postgres text cannot hold it) and no lone UTF-16
 * surrogate (half an emoji, as `slice()` can leave), which every store would replace on the way in,
 * so that `'\ud800'` and `'\udbff'` would name one entry.
 */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidKeyError(key, `expected a string, got ${key === null ? 'null' : typeof key}`);
  if (key.length === 0) throw new InvalidKeyError(key, 'the key is empty');
  if (key.length > MAX_KEY_LENGTH) {
    throw new InvalidKeyError(key, `the key is ${key.length} characters; the maximum is ${MAX_KEY_LENGTH}`);
  }
  if (key.includes('\u0000')) throw new InvalidKeyError(key, 'the key contains the NUL character');
  if (!isWellFormedText(key)) throw new InvalidKeyError(key, 'the key contains a lone UTF-16 surrogate (half of a character, e.g. an emoji cut by slice())');
}
