import { rejectedByServer } from '../../core/connections/rejected-by-server.js';
import type { SerializedJob } from '../job-store.interface.js';
import type { AddedJob } from '../added-job.interface.js';

interface PendingAdd {
  jobs: readonly SerializedJob[];
  resolve(added: AddedJob[]): void;
  reject(error: unknown): void;
}

/**
 * Coalesces concurrent `add` calls into shared INSERT statements (group commit, done in the client).
 * While fewer than `maxInFlight` statements run, a call is sent at once, alone: an idle app pays no
 * added latency. Beyond that, calls wait for a statement to finish and then go together as one
 * statement of up to `maxJobsPerStatement` jobs, so a busy app pays one round trip, one plan and one
 * commit for many jobs instead of one each. After a statement finishes, the next goes out one turn
 * of the event loop later, so the callers it answered can join it. Each call keeps its own result:
 * its jobs' ids and outcomes, in its order.
 *
 * A statement the server rejects wrote nothing (it ran in its own transaction), so a shared one that
 * fails is retried call by call, and only the call at fault sees the error. A statement that failed
 * in any other way (connection lost, timeout) may have committed; retrying it could create jobs
 * twice, so its error goes to every call in it instead.
 */
export class JobStoreEnqueuer {
  private readonly waiting: PendingAdd[] = [];
  private inFlight = 0;
  private idle: Array<() => void> = [];
  /**
   * Set while the callers of a finished statement get their answers. A busy caller adds again as
   * soon as its last add resolves; sending then at once would send that one call alone and make the
   * rest wait for the next turn. So after a statement the next one goes out on the next turn of the
   * event loop, with every call made meanwhile.
   */
  private settling = false;

  constructor(
    /** Inserts the jobs in one statement and returns what became of each, in input order. */
    private readonly insert: (jobs: readonly SerializedJob[]) => Promise<AddedJob[]>,
    private readonly maxInFlight: number,
    private readonly maxJobsPerStatement: number,
  ) {}

  add(jobs: readonly SerializedJob[]): Promise<AddedJob[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ jobs, resolve, reject });
      if (!this.settling) this.pump();
    });
  }

  /** Resolves once every call made so far has its answer (for shutdown: the connection closes after). */
  drain(): Promise<void> {
    if (this.inFlight === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    if (this.inFlight === 0 && this.waiting.length === 0) for (const resolve of this.idle.splice(0)) resolve();
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        if (this.settling) return;
        this.settling = true;
        setImmediate(() => {
          this.settling = false;
          this.pump();
        });
      });
    }
  }

  /** The oldest waiting calls, as many as fit one statement (always at least one, however large). */
  private takeBatch(): PendingAdd[] {
    let jobs = this.waiting[0]!.jobs.length;
    let count = 1;
    while (count < this.waiting.length && jobs + this.waiting[count]!.jobs.length <= this.maxJobsPerStatement) {
      jobs += this.waiting[count]!.jobs.length;
      count += 1;
    }
    return this.waiting.splice(0, count);
  }

  private async send(batch: PendingAdd[]): Promise<void> {
    let added: AddedJob[];
    try {
      added = await this.insert(batch.length === 1 ? batch[0]!.jobs : batch.flatMap((call) => call.jobs));
    } catch (error) {
      if (batch.length > 1 && rejectedByServer(error)) {
        await Promise.all(batch.map((call) => this.insert(call.jobs).then(call.resolve, call.reject)));
      } else {
        for (const call of batch) call.reject(error);
      }
      return;
    }
    let offset = 0;
    for (const call of batch) {
      call.resolve(added.slice(offset, offset + call.jobs.length));
      offset += call.jobs.length;
    }
  }
}
