/** Resolves once `condition()` holds, checked every 5 ms; throws naming `what` past `deadlineMs`. */
export async function until(what: string, condition: () => boolean, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
