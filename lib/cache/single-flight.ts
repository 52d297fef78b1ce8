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
    let promise: Promise<T>;
    try {
      // Settling always happens on a later microtask than this `set`, so the delete cannot run
      // before the entry exists. One `then` keeps the cost of a hit small.
      promise = work().then(
        (value) => {
          this.inFlight.delete(key);
          return value;
        },
        (error: unknown) => {
          this.inFlight.delete(key);
          throw error;
        },
      );
    } catch (error) {
      // A synchronous throw is nobody else's business: nothing was registered yet.
      return Promise.reject(error);
    }
    this.inFlight.set(key, promise);
    return promise;
  }

  /** Calls currently running; for tests and metrics. */
  get size(): number {
    return this.inFlight.size;
  }
}
