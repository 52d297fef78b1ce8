import { settlesWithin } from './settles-within.js';

/** How long `stop()` waits for a run in progress. */
const STOP_WAIT_MS = 1000;

/**
 * Background upkeep (sweeping, pruning, reaping) on an unref'd interval timer, so it never keeps
 * the process alive. One run at a time: a tick that finds the previous run still going skips. A
 * failed run goes to `onError` and the next tick tries again. `stop()` waits for a run in progress,
 * so the connection can close after it, but at most `STOP_WAIT_MS`: a run stuck on a store that
 * stopped answering must not hold up shutdown (the connection's close then cuts it).
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly run: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts the timer; `immediately` also runs once now. Starting twice does nothing. */
  start(immediately = false): void {
    if (this.timer) return;
    if (immediately) this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await settlesWithin(this.running, STOP_WAIT_MS);
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.run()
      .catch(this.onError)
      .finally(() => (this.running = undefined));
  }
}
