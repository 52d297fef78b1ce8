/**
 * Where a store is, as Ballast may print it: in logs at boot, and in errors when it cannot be
 * reached. `where` never holds a password; `source` is the option or env var that chose it, so a
 * message says what to fix.
 */
export interface StoreEndpoint {
  /** e.g. `postgres://app@db.internal:5432/app`, `127.0.0.1:6379/0`, `embedded PGlite, in memory`. */
  where: string;
  /** e.g. `DATABASE_URL`, `postgres.connectionString`, `redis.client`. */
  source: string;
}

/** The URL with any password replaced by `***`; for text that is not a URL, anything between `:` and `@` is masked. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return text.replace(/:[^:@/]*@/g, ':***@');
  }
}

/** `host:port` of a URL (the protocol's default port when none is given), for messages. */
export function hostAndPort(url: URL, defaultPort: number): string {
  return `${url.hostname || 'localhost'}:${url.port || defaultPort}`;
}
