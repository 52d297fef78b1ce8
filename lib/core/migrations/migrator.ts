import type { SqlDatabase } from '../connections/sql-client.js';
import { quoteIdentifier } from '../config/identifiers.js';
import type { Migration } from './migration.js';

/** First half of the advisory lock key, "BALL" in ASCII, so Ballast's locks do not collide with the app's. */
export const BALLAST_LOCK_CLASS = 0x42414c4c;

/**
 * Applies the pending migrations of the given lists in one transaction, under an advisory lock on
 * (BALLAST_LOCK_CLASS, hash of the schema). A second process booting at the same moment waits on the
 * lock, then finds the work done. Tables exist before the promise resolves, so a service never races
 * its own schema.
 */
export async function migrate(db: SqlDatabase, schema: string, migrations: readonly Migration[]): Promise<void> {
  const quoted = quoteIdentifier(schema);
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [BALLAST_LOCK_CLASS, `migrate:${schema}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.migrations (
         service    text        NOT NULL,
         version    integer     NOT NULL,
         name       text        NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (service, version)
       )`,
    );
    const { rows } = await tx.query<{ service: string; version: number }>(`SELECT service, version FROM ${quoted}.migrations`);
    const applied = new Set(rows.map((row) => `${row.service}:${row.version}`));
    const pending = [...migrations]
      .filter((m) => !applied.has(`${m.service}:${m.version}`))
      .sort((a, b) => (a.service === b.service ? a.version - b.version : a.service < b.service ? -1 : 1));
    for (const migration of pending) {
      for (const statement of migration.statements(quoted)) await tx.query(statement);
      await tx.query(`INSERT INTO ${quoted}.migrations (service, version, name) VALUES ($1, $2, $3)`, [
        migration.service,
        migration.version,
        migration.name,
      ]);
    }
  });
}
