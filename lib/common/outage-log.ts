import type { Logger } from '@nestjs/common';
import { errorMessage } from './error-message.js';

/**
 * Logs a store outage twice: once when calls start failing, once when one succeeds again, with how
 * long it lasted and how many calls failed meanwhile. Background loops (claims, heartbeats, writes,
 * reaping) that retry through an outage report every failure and success here, so a database that is
 * down for a minute costs two log lines, not one per retry. `failed` tells the caller whether this
 * failure started the outage.
 */
export class OutageLog {
  private downSince: number | undefined;
  private failures = 0;

  constructor(
    private readonly logger: Pick<Logger, 'warn' | 'log'>,
    /** Who is speaking, e.g. `Postgres queue (schema "ballast")`. */
    private readonly subject: string,
  ) {}

  /** Whether the store is failing right now (no success since the last failure). */
  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** A call failed; `what` says which, e.g. `claiming jobs of queue 'mail'`. */
  failed(what: string, error: unknown): boolean {
    this.failures++;
    if (this.downSince !== undefined) return false;
    this.downSince = Date.now();
    this.logger.warn(`${this.subject}: ${what} failed: ${errorMessage(error)}; retrying with backoff until the store answers again`);
    return true;
  }

  /** A call succeeded: ends an outage in progress. Cheap when there is none (the hot path). */
  succeeded(): void {
    if (this.downSince === undefined) return;
    const seconds = ((Date.now() - this.downSince) / 1000).toFixed(1);
    this.logger.log(`${this.subject}: the store answers again after ${seconds} s (${this.failures} failed call(s) meanwhile); resuming`);
    this.downSince = undefined;
    this.failures = 0;
  }
}
