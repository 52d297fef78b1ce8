import pg from 'pg';
import { Redis } from 'ioredis';

const HOW_TO_START =
  'Start the test servers with `bash ../shared/services.sh` (or see README "Running the tests"), ' +
  'or point TEST_DATABASE_URL / TEST_REDIS_URL / TEST_VALKEY_URL at running ones.';

/**
 * Fails the whole run, before any suite, when a server the suites need does not answer. A provider
 * is never skipped silently.
 */
export default async function globalSetup(): Promise<void> {
  // Jest loads global setup as CommonJS, outside the ESM module mapping, so it cannot import
  // ./test-env.js; it gets the same URLs from the same variables through the helper below.
  const { TEST_DATABASE_URL, TEST_REDIS_URL, TEST_VALKEY_URL } = testUrls();
  const problems: string[] = [];
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    problems.push(`PostgreSQL at ${TEST_DATABASE_URL}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  for (const [name, url] of [
    ['Redis', TEST_REDIS_URL],
    ['Valkey', TEST_VALKEY_URL],
  ] as const) {
    const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      problems.push(`${name} at ${url}: ${(error as Error).message}`);
    } finally {
      redis.disconnect();
    }
  }
  if (problems.length > 0) {
    throw new Error(`Test servers unreachable:\n  ${problems.join('\n  ')}\n${HOW_TO_START}`);
  }
}

function testUrls() {
  return {
    TEST_DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    TEST_REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    TEST_VALKEY_URL: process.env.TEST_VALKEY_URL ?? 'redis://127.0.0.1:6379/0',
  };
}
