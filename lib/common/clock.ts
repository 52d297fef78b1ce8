/**
 * Where Ballast reads the time for values it computes itself (cache expiry on Postgres).
 * Injected through the module options so tests can move time without sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch, like `Date.now()`. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
