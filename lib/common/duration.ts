/** Milliseconds in `n` milliseconds; reads better beside `seconds()` in option objects. */
export function milliseconds(n: number): number {
  return n;
}

/** Milliseconds in `n` seconds: `seconds(5) === 5000`. Every TTL and window in Ballast is in milliseconds. */
export function seconds(n: number): number {
  return n * 1000;
}

/** Milliseconds in `n` minutes. */
export function minutes(n: number): number {
  return n * 60_000;
}

/** Milliseconds in `n` hours. */
export function hours(n: number): number {
  return n * 3_600_000;
}

/** Milliseconds in `n` days. */
export function days(n: number): number {
  return n * 86_400_000;
}
