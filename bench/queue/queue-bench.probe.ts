import { performance } from 'node:perf_hooks';

/**
 * What every contender's handler reports to: runs per job id (to count double runs), the moment
 * the pickup job started, and a wake-up when the drain target is reached. One per contender run.
 */
export class BenchProbe {
  readonly runsById = new Map<string, number>();
  runs = 0;
  lastStartedAt = 0;
  /** When the first handler since the last reset started; 0 before. */
  firstStartedAt = 0;
  private target = Number.POSITIVE_INFINITY;
  private reached: (() => void) | undefined;
  private nextPickup: ((at: number) => void) | undefined;

  /** Called first thing in every handler. */
  ran(id: string): void {
    const now = performance.now();
    if (this.runs === 0) this.firstStartedAt = now;
    this.runs++;
    this.runsById.set(id, (this.runsById.get(id) ?? 0) + 1);
    this.lastStartedAt = now;
    if (this.nextPickup) {
      const resolve = this.nextPickup;
      this.nextPickup = undefined;
      resolve(now);
    }
    if (this.runs >= this.target && this.reached) {
      const resolve = this.reached;
      this.reached = undefined;
      resolve();
    }
  }

  /** Resolves once `total` runs happened since the last reset. */
  untilRuns(total: number): Promise<void> {
    this.target = total;
    if (this.runs >= total) return Promise.resolve();
    return new Promise((resolve) => (this.reached = resolve));
  }

  /** Resolves with the start time of the next run. */
  nextRun(): Promise<number> {
    return new Promise((resolve) => (this.nextPickup = resolve));
  }

  /** Ids that ran more than once. */
  duplicates(): number {
    let count = 0;
    for (const runs of this.runsById.values()) if (runs > 1) count++;
    return count;
  }

  reset(): void {
    this.runsById.clear();
    this.runs = 0;
    this.firstStartedAt = 0;
    this.target = Number.POSITIVE_INFINITY;
    this.reached = undefined;
    this.nextPickup = undefined;
  }
}

/** The one probe the bench's handlers report to; the bench runs one contender at a time. */
export const probe = new BenchProbe();
