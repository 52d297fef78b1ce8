import type { Clock } from '../common/clock.js';
import type { RateLimitResult } from './rate-limit-result.interface.js';

/** Keys remembered at most; past it the oldest entry goes, so a flood of keys cannot grow memory. */
const MAX_BLOCKED_KEYS = 10_000;

interface Block {
  /** Until then (store clock as seen here), a call of `cost` units or more cannot fit. */
  until: number;
  resetAt: number;
  cost: number;
  limit: number;
  remaining: number;
}

/**
 * Keys this process knows to be over their limit, so calls on them are refused without a store
 * call until the store said they could fit again (like rate-limiter-flexible's in-memory block). A
 * rejection of `cost` units with `retryAfterMs` means no call of that cost or more fits before then
 * unless units are given back, which only `reset` (forgotten here too), a refund of a combined
 * check, or another process's reset can do; those make the store more permissive than this answer
 * for a moment, never less, so the block is stricter than the store, never looser.
 *
 * Times are read from the store's clock as seen from this process (the injected clock on Postgres),
 * and only durations the store computed are added to it, so clock skew does not matter.
 */
export class RateLimitBlockCache {
  private readonly blocks = new Map<string, Block>();

  constructor(private readonly clock: Clock) {}

  /** The answer for a call of `cost` units on `key` if the key is known to be blocked for it. */
  check(key: string, cost: number): RateLimitResult | undefined {
    if (this.blocks.size === 0 || cost === 0) return undefined;
    const block = this.blocks.get(key);
    if (!block) return undefined;
    const now = this.clock.now();
    if (now >= block.until) {
      this.blocks.delete(key);
      return undefined;
    }
    if (cost < block.cost) return undefined;
    return {
      allowed: false,
      limit: block.limit,
      remaining: block.remaining,
      resetMs: Math.max(0, block.resetAt - now),
      retryAfterMs: Math.max(1, block.until - now),
    };
  }

  /** Remembers a rejection the store made (not one the failure policy made). */
  record(key: string, cost: number, result: RateLimitResult): void {
    if (result.allowed || result.storeError !== undefined || cost === 0) return;
    const now = this.clock.now();
    const existing = this.blocks.get(key);
    // A live block for a smaller cost already covers this one's calls, and more.
    if (existing && existing.cost <= cost && now < existing.until) return;
    // Full: the oldest entry goes (Map keeps insertion order); O(1), whatever a flood of keys does.
    if (!existing && this.blocks.size >= MAX_BLOCKED_KEYS) this.blocks.delete(this.blocks.keys().next().value!);
    this.blocks.set(key, {
      until: now + result.retryAfterMs,
      resetAt: now + result.resetMs,
      cost,
      limit: result.limit,
      remaining: result.remaining,
    });
  }

  /** Forgets the key (after `reset`). */
  forget(key: string): void {
    this.blocks.delete(key);
  }
}
