import type { Clock } from '../../lib/index.js';

/** A clock tests move by hand: `advance(minutes(5))` instead of sleeping five minutes. */
export class FakeClock implements Clock {
  constructor(private current = Date.UTC(2030, 0, 1)) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
