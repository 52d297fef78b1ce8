import type { SqlDatabase } from '../../../core/connections/sql-client.js';
import type { JobSignal, JobWakeup } from '../../../queue/job-store.interface.js';
import { parseQueueSignal } from './postgres-queue.channel.js';

/** `JobWakeup` on Postgres: LISTEN on the schema's channel, which every statement that readies or pauses jobs notifies. */
export class PostgresJobWakeup implements JobWakeup {
  constructor(
    private readonly db: SqlDatabase,
    private readonly channel: string,
  ) {}

  listen(onSignal: (signal: JobSignal) => void): Promise<() => Promise<void>> {
    return this.db.listen(this.channel, (payload) => {
      const signal = parseQueueSignal(payload);
      if (signal) onSignal(signal);
    });
  }
}
