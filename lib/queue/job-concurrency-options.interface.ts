/**
 * `@Job(name, { concurrency: { limit, key? } })`: at most `limit` jobs of one key run at once across
 * every worker process, while jobs of other keys keep flowing; the claims take turns between keys,
 * so a key with a deep backlog does not hold up the others.
 */
export interface JobConcurrencyOptions {
  /** Most jobs of one key running at once, in all processes together (1 to 100000). */
  limit: number;
  /**
   * The key of a job, from its data, e.g. `(data: Export) => data.accountId`; a string of 1 to 256
   * printable characters (another value fails the `add`). Keys belong to the queue: handlers of one
   * queue whose jobs get the same key share its limit, which makes a queue-wide limit one key that
   * every handler returns. Computed where the job is added (`add` may pass `concurrencyKey` instead).
   * @default the job's name (one limit for every job of the name)
   */
  key?: (data: never) => string;
  /**
   * Jobs of this name running at once in one process (what a number `concurrency` sets).
   * @default limit
   */
  perProcess?: number;
}
