/** An error's message for a log line or a wrapped error; anything thrown that is not an Error, as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
