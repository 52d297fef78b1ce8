import { BallastTimeoutError } from '../errors/ballast-timeout.error.js';
import type { RateLimitState } from './rate-limit-state.js';
import type { StoreHandle } from '../core/store-handle.js';
import type { RateLimitStore, RateLimitStorePolicy } from './rate-limit-store.interface.js';

/** What one call of a joined decision gets: its own verdict, the state right after it, the store's time. */
export interface QueuedDecision {
  allowed: boolean;
  state: RateLimitState;
  now: number;
}

interface Waiter {
  resolve(decision: QueuedDecision): void;
  reject(error: unknown): void;
}

/** Calls on one key, of one cost and policy shape, that wait to be decided together. */
interface Group {
  id: string;
  key: string;
  policy: RateLimitStorePolicy;
  cost: number;
  waiters: Waiter[];
}

/** Runs one store call under the service's deadline, which starts when the call is sent. */
export type DeadlineRunner = <T>(operation: string, call: () => Promise<T>) => Promise<T>;

/**
 * Puts the service's decisions in front of the store in a way that keeps a flood from switching
 * the limiter off:
 *
 * - At most `store.maxConcurrentCalls` store calls are in flight; the rest wait here, in arrival
 *   order. The deadline (`rateLimit.timeoutMs`) starts when a call is sent, so it bounds the store's
 *   answer and never the time a decision spent queued in this process: 20,000 calls at once are
 *   slow to answer, not answered by the failure policy.
 * - Calls on the same key (same cost and policy) that wait at the same time join one store call,
 *   which decides them one after the other, atomically, and says how many fit; each caller gets
 *   its own verdict and the state as it was right after its own call. A flood on one key costs a
 *   handful of statements instead of one per call.
 * - When a store call times out, the decisions still waiting get the same error at once instead of
 *   each waiting out its own deadline behind a store that does not answer.
 */
export class RateLimitDecisionQueue {
  /** Groups not yet sent, by join key; calls join them until they are sent. */
  private readonly open = new Map<string, Group>();
  /** Groups in arrival order; sent ones before `head` are cleared so they can be collected. */
  private queue: Array<Group | undefined> = [];
  private head = 0;
  private inFlight = 0;
  private scheduled = false;
  private readonly pumpSoon = () => {
    this.scheduled = false;
    this.pump();
  };

  constructor(
    private readonly store: StoreHandle<RateLimitStore>,
    private readonly run: DeadlineRunner,
  ) {}

  /** Decides one call of `cost` units on `key`: alone, or joined with calls that wait beside it. */
  decide(key: string, policy: RateLimitStorePolicy, cost: number): Promise<QueuedDecision> {
    const id = `${key}\u0000${cost}\u0000${policy.limit}\u0000${policy.window}\u0000${policy.durable ? 1 : 0}`;
    let group = this.open.get(id);
    if (!group) {
      group = { id, key, policy, cost, waiters: [] };
      this.open.set(id, group);
      this.queue.push(group);
      // Sent at the end of this turn of the event loop at the earliest, so calls made together join.
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(this.pumpSoon);
      }
    }
    const waiters = group.waiters;
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  }

  private pump(): void {
    // Read once per pump, not per decision: this loop runs for every decision of a flood.
    const open = this.store.current;
    const maxInFlight = Math.max(1, open?.maxConcurrentCalls ?? 1);
    while (this.head < this.queue.length && this.inFlight < maxInFlight) {
      const group = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      this.open.delete(group.id);
      this.send(group, open);
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
  }

  /** Sends one group's decision, straight to `open` when the store is open (the hot path), else opening it first. */
  private send(group: Group, open: RateLimitStore | undefined): void {
    this.inFlight++;
    const { key, policy, cost, waiters } = group;
    const consume = open
      ? () => open.consume(key, policy, cost, waiters.length)
      : () => this.store.use((store) => store.consume(key, policy, cost, waiters.length));
    this.run('consume', consume).then(
      ({ granted, state, now }) => {
        this.inFlight--;
        for (let i = 0; i < waiters.length; i++) {
          if (i < granted) {
            // The state right after this call: the later granted calls' units not yet taken.
            const used = state.used - (granted - 1 - i) * cost;
            waiters[i]!.resolve({ allowed: true, state: i === granted - 1 ? state : { ...state, used }, now });
          } else {
            waiters[i]!.resolve({ allowed: false, state, now });
          }
        }
        this.pump();
      },
      (error: unknown) => {
        this.inFlight--;
        for (const waiter of waiters) waiter.reject(error);
        if (error instanceof BallastTimeoutError) this.failWaiting(error);
        this.pump();
      },
    );
  }

  /** Everything still queued gets `error` now: it would only queue behind a store that does not answer. */
  private failWaiting(error: BallastTimeoutError): void {
    const waiting = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const group of waiting) {
      if (!group) continue;
      this.open.delete(group.id);
      for (const waiter of group.waiters) waiter.reject(error);
    }
  }
}
