import type { Logger } from '@nestjs/common';
import { NoJobHandlerError } from '../errors/no-job-handler.error.js';
import { JobConcurrencyGate } from './job-concurrency.gate.js';
import type { JobContext } from './job.interface.js';
import type { RegisteredJobHandler } from './job.registry.js';
import { toStoredResult, type StoredResult } from './job-result.js';

/**
 * Runs the jobs of one queue, whatever runner fetched them: routes each job by name to its `@Job`
 * handler, holds a handler with a lower `concurrency` than its queue's at its own gate, and turns
 * what the handler gives into what every store records: a JSON-safe result (with its JSON text),
 * or an `Error` with a message and a stack. Runners (the SQL runner, the BullMQ adapter) only fetch,
 * lease and write; no runner routes, gates or normalises on its own.
 */
export class JobExecutor {
  /** Jobs of this queue a process runs at once: the largest `concurrency` of its handlers. */
  readonly concurrency: number;
  /**
   * The longest lease among the handlers. A runner that holds one lease length for every job it
   * runs (BullMQ's `lockDuration`) uses it; the SQL runner leases each job by its own.
   */
  readonly longestLeaseMs: number;
  private readonly routes = new Map<string, (data: unknown, context: JobContext) => Promise<unknown>>();

  constructor(
    readonly queue: string,
    handlers: ReadonlyMap<string, RegisteredJobHandler>,
    private readonly logger: Logger,
  ) {
    const all = [...handlers.values()];
    this.concurrency = Math.max(...all.map((h) => h.concurrency));
    this.longestLeaseMs = Math.max(...all.map((h) => h.defaults.leaseMs));
    for (const [name, handler] of handlers) this.routes.set(name, this.route(handler));
  }

  /** Job names with a handler here. */
  get names(): string[] {
    return [...this.routes.keys()];
  }

  /**
   * Runs one job; resolves to its stored result, rejects with an `Error` (a job of a name with no
   * handler here fails with `NoJobHandlerError`).
   */
  execute(data: unknown, context: JobContext): Promise<StoredResult> {
    const run = this.routes.get(context.name);
    if (!run) return Promise.reject(new NoJobHandlerError(this.queue, context.name, this.names));
    return run(data, context).then(
      (value) => toStoredResult(value, context.name, this.logger),
      (error: unknown) => Promise.reject(toError(error)),
    );
  }

  private route(handler: RegisteredJobHandler): (data: unknown, context: JobContext) => Promise<unknown> {
    const invoke = async (data: unknown, context: JobContext): Promise<unknown> => handler.invoke(data, context);
    if (handler.concurrency >= this.concurrency) return invoke;
    const gate = new JobConcurrencyGate(handler.concurrency);
    return async (data, context) => {
      const release = await gate.acquire(context.signal);
      try {
        return await invoke(data, context);
      } finally {
        release();
      }
    };
  }
}

/** A handler may throw anything; every store records an Error with a message and a stack. */
function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(typeof error === 'string' ? error : `non-Error thrown: ${String(error)}`);
}
