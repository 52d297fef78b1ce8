/**
 * Where the suites find their servers. Set TEST_DATABASE_URL, TEST_REDIS_URL or TEST_VALKEY_URL to
 * run the same suites against other servers (a real Valkey, another host); loopback otherwise.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
export const TEST_VALKEY_URL = process.env.TEST_VALKEY_URL ?? 'redis://127.0.0.1:6379/0';
