import type { OutageLog } from '../../common/outage-log.js';
import { PeriodicTask } from '../../common/periodic-task.js';
import type { JobStore } from '../job-store.interface.js';

/** Upper bound on statements per kind and run, so a run over a huge backlog stays bounded. */
const MAX_BATCHES_PER_RUN = 50;

/**
 * Deletes finished jobs past their retention (age or count), and `unique` keys whose window has
 * ended, in bounded batches, so the tables and their indexes hold what users asked to keep and
 * little else. Completed jobs with the default
 * retention never reach it: the completion statement deletes them. Runs on an unref'd timer while
 * the backend has workers, under a try-lock per schema, so one process prunes at a time.
 */
export class JobStorePruner {
  private readonly task: PeriodicTask;

  constructor(
    private readonly store: JobStore,
    private readonly settings: { pruneIntervalMs: number; pruneBatchSize: number },
    private readonly outage: OutageLog,
  ) {
    this.task = new PeriodicTask(this.settings.pruneIntervalMs, () => this.prune(), (error) => this.outage.failed('pruning finished jobs', error));
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /**
   * One run; resolves to the jobs deleted by age and by count, and the `unique` keys deleted whose
   * window had ended. Public so tests and ops can trigger it.
   */
  async prune(): Promise<{ byAge: number; byCount: number; keys: number }> {
    const byAge = await this.pruneBy('age');
    const byCount = await this.pruneBy('count');
    const keys = await this.pruneBy('keys');
    return { byAge, byCount, keys };
  }

  private async pruneBy(rule: 'age' | 'count' | 'keys'): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      const deleted = await this.store.prune(rule, this.settings.pruneBatchSize);
      this.outage.succeeded();
      total += deleted;
      if (deleted < this.settings.pruneBatchSize) break;
    }
    return total;
  }
}
