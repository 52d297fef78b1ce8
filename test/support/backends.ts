import pg from 'pg';
import type { BallastModuleOptions, ProviderName } from '../../lib/index.js';
import { sharedPglite } from './shared-pglite.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL, TEST_VALKEY_URL } from './test-env.js';
import { uniquePrefix, uniqueSchema } from './unique-name.js';

/** Every backend a contract suite runs on. PGlite is the `postgres` provider with no server. */
export const ALL_BACKENDS = ['postgres', 'pglite', 'redis', 'valkey'] as const;
export type TestBackend = (typeof ALL_BACKENDS)[number];

export interface BackendSetup {
  provider: ProviderName;
  /** Connection and isolation options to spread into `forRoot`; each call gets a fresh schema and prefix. */
  options: BallastModuleOptions;
  schema: string;
  keyPrefix: string;
  /** Drops what the test left behind (its schema); Redis keys are left to expire with their prefix. */
  cleanup(): Promise<void>;
}

export async function setupBackend(backend: TestBackend, label: string): Promise<BackendSetup> {
  const schema = uniqueSchema(label);
  const keyPrefix = uniquePrefix(`${backend}:${label}`);
  switch (backend) {
    case 'postgres':
      return {
        provider: 'postgres',
        options: { postgres: { connectionString: TEST_DATABASE_URL, poolSize: 5 }, schema, keyPrefix },
        schema,
        keyPrefix,
        cleanup: () => dropSchemaOnServer(schema),
      };
    case 'pglite': {
      const pglite = await sharedPglite();
      return {
        provider: 'postgres',
        options: { postgres: { pglite }, schema, keyPrefix },
        schema,
        keyPrefix,
        cleanup: async () => {
          await pglite.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        },
      };
    }
    case 'redis':
    case 'valkey':
      return {
        provider: backend,
        options: { [backend]: { url: backend === 'redis' ? TEST_REDIS_URL : TEST_VALKEY_URL }, schema, keyPrefix },
        schema,
        keyPrefix,
        cleanup: async () => undefined,
      };
  }
}

export async function dropSchemaOnServer(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
