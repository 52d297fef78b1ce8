import type { Migration } from '../../../core/migrations/migration.js';

/**
 * Schema of the Postgres cache, append-only. UNLOGGED: writes skip the WAL, so they are cheaper,
 * and Postgres empties the table after a crash, which a cache can afford.
 */
export const cacheMigrations: readonly Migration[] = [
  {
    service: 'cache',
    version: 1,
    name: 'create cache_entries',
    statements: (s) => [
      `CREATE UNLOGGED TABLE ${s}.cache_entries (
         key        text        PRIMARY KEY,
         value      jsonb       NOT NULL,
         expires_at timestamptz
       )`,
      // Serves the sweeper (expired first) and maxEntries eviction (soonest-expiring first).
      `CREATE INDEX cache_entries_expires_at ON ${s}.cache_entries (expires_at)`,
    ],
  },
  {
    service: 'cache',
    version: 2,
    name: 'values as json text',
    statements: (s) => [
      // jsonb reorders object keys (and drops duplicates); json keeps the text as written, so a value
      // reads back exactly as it was stored, as it does on Valkey/Redis. Nothing queries inside
      // cached values, so jsonb's indexing bought nothing, and json is cheaper to write.
      `ALTER TABLE ${s}.cache_entries ALTER COLUMN value TYPE json USING value::json`,
    ],
  },
];
