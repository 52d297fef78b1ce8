/** The services that own tables; each has its own numbered migration list. */
export type MigratedService = 'cache' | 'queue' | 'rate-limit';

/**
 * One schema change. Lists are append-only: a released migration is never edited, a change is a new
 * version. `statements` get the already-validated, quoted schema name.
 */
export interface Migration {
  service: MigratedService;
  version: number;
  name: string;
  statements(schema: string): string[];
}
