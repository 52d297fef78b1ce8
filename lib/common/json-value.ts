import { SerializationError } from '../errors/serialization.error.js';
import { isWellFormedText } from './well-formed-text.js';

/**
 * Serializes `value` to JSON text, or throws `SerializationError` if JSON would not give the same
 * value back: functions, symbols, BigInt, `undefined`, non-finite numbers, cycles, and objects that
 * are not plain (Date, Map, Set, class instances) are refused, as are strings Postgres jsonb cannot
 * store: ones holding NUL, or a lone UTF-16 surrogate (half an emoji, as `slice()` can leave), which
 * JSON writes as an escape jsonb refuses. Checking first means a bad value never half-writes.
 */
export function toJson(value: unknown): string {
  assertJsonValue(value);
  return JSON.stringify(value);
}

/**
 * Checks what `toJson` checks, without serializing: for a value that a store serializes later, once,
 * where it is stored. Throws `SerializationError`, saying where and why.
 */
export function assertJsonValue(value: unknown): void {
  // The common case (a valid value) takes the quick check, which builds no path strings; only a
  // value that fails it is walked again to say where and why. A getter that throws (or a proxy)
  // fails the quick check; the second walk says where.
  let safe: boolean;
  try {
    safe = isJsonSafe(value, []);
  } catch {
    safe = false;
  }
  if (!safe) assertJsonSafe(value, '$', new Set());
}

/**
 * Deepest nesting accepted. Far past what real data needs, and well inside what JSON, Postgres
 * jsonb and a Node stack handle: a value nested 10,000 deep would otherwise overflow the stack.
 */
export const MAX_JSON_DEPTH = 512;

/** Whether jsonb can hold the string: no NUL, no lone surrogate. */
function storable(text: string): boolean {
  return !text.includes('\u0000') && isWellFormedText(text);
}

/** Why jsonb cannot hold the string (which `storable` refused). */
function unstorableReason(text: string, what: 'strings' | 'keys'): string {
  return text.includes('\u0000')
    ? `${what} may not contain the NUL character`
    : `${what} may not contain a lone UTF-16 surrogate (half of a character, e.g. an emoji cut by slice())`;
}

/** The same rules as `assertJsonSafe`, answering yes or no without building any message. */
function isJsonSafe(value: unknown, ancestors: object[]): boolean {
  switch (typeof value) {
    case 'string':
      return storable(value);
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (ancestors.length >= MAX_JSON_DEPTH || ancestors.includes(value)) return false;
  ancestors.push(value);
  let safe = true;
  if (Array.isArray(value)) {
    for (let i = 0; safe && i < value.length; i++) safe = isJsonSafe(value[i], ancestors);
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) safe = false;
    else {
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (!storable(key) || !isJsonSafe((value as Record<string, unknown>)[key], ancestors)) {
          safe = false;
          break;
        }
      }
    }
  }
  ancestors.pop();
  return safe;
}

function assertJsonSafe(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
      if (!storable(value)) throw new SerializationError(path, unstorableReason(value, 'strings'));
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new SerializationError(path, `${value} is not a finite number`);
      return;
    case 'undefined':
      throw new SerializationError(path, 'undefined is not JSON (use null)');
    case 'bigint':
      throw new SerializationError(path, 'BigInt is not JSON (convert it to a string)');
    case 'function':
    case 'symbol':
      throw new SerializationError(path, `a ${typeof value} is not JSON`);
    case 'object':
      break;
  }
  if (value === null) return;
  const object = value as object;
  if (ancestors.has(object)) throw new SerializationError(path, 'the object refers to itself (cycle)');
  if (ancestors.size >= MAX_JSON_DEPTH) throw new SerializationError(path, `nested deeper than ${MAX_JSON_DEPTH} levels`);
  ancestors.add(object);
  if (Array.isArray(object)) {
    object.forEach((item, index) => assertJsonSafe(item, `${path}[${index}]`, ancestors));
  } else {
    const proto = prototypeOf(object, path);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new SerializationError(path, `a ${kind} does not survive JSON; store a plain object or array (e.g. date.toISOString())`);
    }
    for (const key of Object.keys(object)) {
      if (!storable(key)) throw new SerializationError(path, unstorableReason(key, 'keys'));
      assertJsonSafe(read(object, key, `${path}.${key}`), `${path}.${key}`, ancestors);
    }
  }
  ancestors.delete(object);
}

/** A property's value; a getter that throws is the value's fault, reported where it is. */
function read(object: object, key: string, path: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch (error) {
    throw new SerializationError(path, `reading it threw: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The prototype; a proxy that throws on being asked is not plain data. */
function prototypeOf(object: object, path: string): unknown {
  try {
    return Object.getPrototypeOf(object) as unknown;
  } catch (error) {
    throw new SerializationError(path, `inspecting it threw: ${error instanceof Error ? error.message : String(error)}`);
  }
}
