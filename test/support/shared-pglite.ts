import { PGlite } from '@electric-sql/pglite';

let instance: Promise<PGlite> | undefined;

/**
 * One PGlite per test file (PGlite takes seconds to boot on this machine); tests isolate themselves
 * by schema, exactly as they do on a server. Passed to Ballast as `postgres: { pglite }`, which Ballast
 * never closes, so the file closes it in `afterAll`.
 */
export function sharedPglite(): Promise<PGlite> {
  instance ??= PGlite.create();
  return instance;
}

export async function closeSharedPglite(): Promise<void> {
  if (!instance) return;
  const db = await instance;
  instance = undefined;
  await db.close();
}
