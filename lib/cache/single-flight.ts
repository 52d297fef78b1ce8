/**
 * Joins concurrent calls for one key onto one in-flight promise: the first caller's `work` runs,
 * later callers get the same result or the same error. The entry is dropped once it settles, so a
 * failure is not remembered.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.inFlight.get(key);
    if (existing) return existing;
    // `work` starts on the next microtask, after the entry is registered, so even a synchronous
    // throw is shared with the callers that join before it settles.
    const promise: Promise<T> = Promise.resolve()
      .then(work)
      .finally(() => {
        if (this.inFlight.get(key) === promise) this.inFlight.delete(key);
      });
    this.inFlight.set(key, promise);
    return promise;
  }

  /** Calls currently running; for tests and metrics. */
  get size(): number {
    return this.inFlight.size;
  }
}
