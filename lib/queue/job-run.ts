import { toJson } from '../common/json-value.js';
import { InvalidJobProgressError } from '../errors/invalid-job-progress.error.js';
import { SerializationError } from '../errors/serialization.error.js';
import { RetryLaterError } from '../errors/retry-later.error.js';
import type { JobProgress } from './job.interface.js';
import type { JobProgressWriter, RunningJob } from './running-job.interface.js';

/** Longest progress value, as JSON text: progress is a gauge, not a place for results. */
export const MAX_PROGRESS_CHARS = 4096;

/** A progress write waiting behind the one in flight; a newer value replaces its value. */
interface QueuedProgress {
  value: JobProgress;
  json: string;
  written: Promise<void>;
}

/**
 * One attempt of one job (`RunningJob`), as every runner gives it to the executor and as the
 * handler sees it (its `JobContext`); made by `JobExecutor.startRun`. A class, not an object literal with a getter: V8 builds those several times
 * slower, and one is made for every job.
 *
 * The abort signal is made on first read: an AbortController costs about 9 µs per job here, more
 * than the rest of a run, and most handlers never look at it. The first reason given to `abort`
 * (shutdown, lease lost, run timeout) is the one the signal carries.
 */
export class JobRun implements RunningJob {
  #controller: AbortController | undefined;
  #abortedWith: Error | undefined;
  readonly #writer: JobProgressWriter;
  #inFlight: Promise<void> | undefined;
  #queued: QueuedProgress | undefined;
  readonly #scheduledFor: number | null;

  constructor(
    readonly queue: string,
    readonly id: string,
    readonly name: string,
    readonly attempt: number,
    readonly maxAttempts: number,
    writer: JobProgressWriter,
    scheduledFor: number | null = null,
  ) {
    this.#writer = writer;
    this.#scheduledFor = scheduledFor;
  }

  get scheduledFor(): Date | undefined {
    return this.#scheduledFor === null ? undefined : new Date(this.#scheduledFor);
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      // Read after the abort: the signal must still say so.
      if (this.#abortedWith) this.#controller.abort(this.#abortedWith);
    }
    return this.#controller.signal;
  }

  /** Why the run was aborted, if it was. */
  get abortReason(): Error | undefined {
    return this.#abortedWith;
  }

  /** Aborts the handler's signal; a later reason does not replace the first. */
  abort(reason: Error): void {
    if (this.#abortedWith) return;
    this.#abortedWith = reason;
    this.#controller?.abort(reason);
  }

  retryAfter(ms: number): never {
    throw new RetryLaterError(ms);
  }

  /**
   * Checked at once (a bad value throws here, synchronously); written in the background, the latest
   * value winning when calls come faster than the store answers. Resolves once the value (or a
   * newer one) is stored, or its write failed.
   */
  progress(value: JobProgress): Promise<void> {
    const json = checkedProgress(this.id, value);
    if (this.#queued) {
      this.#queued.value = value;
      this.#queued.json = json;
      return this.#queued.written;
    }
    if (!this.#inFlight) return this.#send(value, json);
    const queued: QueuedProgress = { value, json, written: Promise.resolve() };
    queued.written = this.#inFlight.then(() => {
      this.#queued = undefined;
      return this.#send(queued.value, queued.json);
    });
    this.#queued = queued;
    return queued.written;
  }

  #send(value: JobProgress, json: string): Promise<void> {
    const sent: Promise<void> = this.#writer(this, value, json)
      .catch(() => undefined)
      .finally(() => {
        if (this.#inFlight === sent) this.#inFlight = undefined;
      });
    this.#inFlight = sent;
    return sent;
  }
}

/** The progress value's JSON, or `InvalidJobProgressError`. */
function checkedProgress(jobId: string, value: unknown): string {
  let json: string;
  try {
    json = toJson(value);
  } catch (error) {
    if (error instanceof SerializationError) throw new InvalidJobProgressError(jobId, `${error.reason} at ${error.path}`);
    throw error;
  }
  if (json.length > MAX_PROGRESS_CHARS) {
    throw new InvalidJobProgressError(jobId, `${json.length} characters as JSON; at most ${MAX_PROGRESS_CHARS}`);
  }
  return json;
}
