import pg from 'pg';
import { Redis } from 'ioredis';
import { unlinkByPrefix } from '../../lib/core/connections/unlink-by-prefix.js';

/** Drops a schema a bench created, on its own short-lived connection. */
export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Deletes the keys a bench wrote under `prefix`, on its own short-lived connection. */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    await unlinkByPrefix(redis, prefix, 1000);
  } finally {
    redis.disconnect();
  }
}
