/**
 * Delays between retries of a loop that keeps failing: `baseMs`, doubling up to `maxMs`, each
 * shortened by up to a fifth at random so many workers retrying one store spread out. `reset()`
 * after a success starts again from `baseMs`.
 */
export class RetryBackoff {
  private attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.max(1, Math.round(delay * (1 - 0.2 * this.random())));
  }

  reset(): void {
    this.attempt = 0;
  }
}
