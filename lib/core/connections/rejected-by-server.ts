/**
 * Whether the server answered the statement with an error: node-postgres and PGlite both raise the
 * protocol's ErrorResponse with a `severity` and an SQLSTATE `code`. Then the statement's transaction
 * rolled back and nothing of it was written. A socket error has neither field.
 */
export function rejectedByServer(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof severity === 'string' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}
