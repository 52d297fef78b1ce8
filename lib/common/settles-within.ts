/**
 * True if `promise` settles (either way) within `ms`; false otherwise, leaving it running. Shutdown
 * steps that wait on a store use it: a store that stops answering must not hold `app.close()` for ever.
 */
export async function settlesWithin(promise: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (!promise) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
