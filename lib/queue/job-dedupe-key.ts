import { createHash } from 'node:crypto';

/**
 * The default `unique` key of a job: its name and a hash of its data as canonical JSON (object keys
 * sorted at every depth), so `{ a, b }` and `{ b, a }` are one job. The data is JSON-safe already
 * (checked by `QueueService`); the name keeps two job kinds with equal data apart.
 */
export function defaultUniqueKey(name: string, data: unknown): string {
  return `${name}:${createHash('sha256').update(canonicalJson(data)).digest('base64url')}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  // undefined only as the whole value (JSON has no undefined; assertJsonValue refused it elsewhere).
  return JSON.stringify(value) ?? 'null';
}
