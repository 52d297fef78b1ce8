import { randomBytes } from 'node:crypto';

/** A schema name no other test uses (lower case, SQL-safe). */
export function uniqueSchema(label: string): string {
  return `t_${label.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(4).toString('hex')}`;
}

/** A Redis key prefix no other test uses. */
export function uniquePrefix(label: string): string {
  return `test:${label}:${randomBytes(4).toString('hex')}:`;
}
