import { InvalidKeyError } from '../errors/invalid-key.error.js';

/** Longest key Ballast accepts, in characters; keeps keys well inside Postgres' btree entry limit. */
export const MAX_KEY_LENGTH = 512;

/** Throws `InvalidKeyError` unless `key` is a non-empty string of at most `MAX_KEY_LENGTH` characters. */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidKeyError(key, `expected a string, got ${key === null ? 'null' : typeof key}`);
  if (key.length === 0) throw new InvalidKeyError(key, 'the key is empty');
  if (key.length > MAX_KEY_LENGTH) {
    throw new InvalidKeyError(key, `the key is ${key.length} characters; the maximum is ${MAX_KEY_LENGTH}`);
  }
}
