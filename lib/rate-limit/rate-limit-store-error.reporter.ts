import { Logger } from '@nestjs/common';
import type { BallastError } from '../errors/ballast.error.js';

/**
 * Logs store failures without flooding the log: the first failure at once, then at most one line
 * per `intervalMs` carrying the count of failures in between, and a line when the store answers
 * again. A failing store is never silent; a dead or flapping one costs at most one line per interval.
 */
export class RateLimitStoreErrorReporter {
  private readonly logger = new Logger('Ballast');
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private unreported = 0;
  private failing = false;

  constructor(private readonly intervalMs: number) {}

  /** One failed store call; `outcome` says what happened to the request because of it. */
  failed(error: BallastError, outcome: string): void {
    this.failing = true;
    const now = Date.now();
    if (now - this.lastLoggedAt < this.intervalMs) {
      this.unreported++;
      return;
    }
    const earlier = this.unreported > 0 ? ` (${this.unreported} more failure(s) since the last report)` : '';
    this.logger.warn(`rate-limit store failed: ${error.message}; ${outcome}${earlier}`);
    this.lastLoggedAt = now;
    this.unreported = 0;
  }

  /** A store call succeeded; ends a failure streak with one line. Cheap on the hot path. */
  succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    const now = Date.now();
    // A flapping store would otherwise log on every flip; the unreported count carries over.
    if (now - this.lastLoggedAt < this.intervalMs) return;
    const earlier = this.unreported > 0 ? ` after ${this.unreported} unreported failure(s)` : '';
    this.logger.log(`rate-limit store answers again${earlier}`);
    this.lastLoggedAt = now;
    this.unreported = 0;
  }
}
