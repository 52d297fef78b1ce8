import type { ProviderName } from './provider-name.js';
import { BallastTimeoutError } from '../errors/ballast-timeout.error.js';
import { toBackendError } from './with-timeout.js';

interface PendingCall {
  deadline: number;
  expire(): void;
  prev: PendingCall | undefined;
  next: PendingCall | undefined;
  linked: boolean;
}

/**
 * Bounds every call of one service by the same timeout, for hot paths. Calls with one timeout
 * reach their deadlines in the order they started, so pending calls sit in a linked list in start
 * order and one timer, set for the oldest, serves them all: a call costs a list link and unlink
 * instead of a `setTimeout` and `clearTimeout`. Errors are the same as `withTimeout`'s.
 */
export class CallDeadlines {
  private head: PendingCall | undefined;
  private tail: PendingCall | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly provider: ProviderName,
    private readonly timeoutMs: number,
  ) {}

  run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: PendingCall = {
        deadline: Date.now() + this.timeoutMs,
        expire: () => reject(new BallastTimeoutError(this.provider, operation, this.timeoutMs)),
        prev: this.tail,
        next: undefined,
        linked: true,
      };
      if (this.tail) this.tail.next = entry;
      else this.head = entry;
      this.tail = entry;
      this.timer ??= this.schedule(this.timeoutMs);

      let pending: Promise<T>;
      try {
        pending = call();
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (value) => {
          if (this.unlink(entry)) resolve(value);
        },
        (error: unknown) => {
          if (this.unlink(entry)) reject(toBackendError(this.provider, operation, error));
        },
      );
    });
  }

  /** Removes a settled call; `false` when its deadline already expired it. */
  private unlink(entry: PendingCall): boolean {
    if (!entry.linked) return false;
    entry.linked = false;
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    return true;
  }

  private schedule(delayMs: number): NodeJS.Timeout {
    // Unref'd: a pending call's own socket keeps the process alive; a deadline alone must not.
    return setTimeout(() => this.expireDue(), Math.max(1, delayMs)).unref();
  }

  private expireDue(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.head && this.head.deadline <= now) {
      const entry = this.head;
      this.unlink(entry);
      entry.expire();
    }
    if (this.head) this.timer = this.schedule(this.head.deadline - now);
  }
}
