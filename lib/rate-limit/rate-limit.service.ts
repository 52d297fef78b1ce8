import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { ProviderName } from '../common/provider-name.js';
import { CallDeadlines } from '../common/call-deadlines.js';
import { toBackendError } from '../common/with-timeout.js';
import { systemClock, type Clock } from '../common/clock.js';
import type { StoreHandle } from '../core/store-handle.js';
import type { BallastError } from '../errors/ballast.error.js';
import { InvalidCostError } from '../errors/invalid-cost.error.js';
import { InvalidKeyError } from '../errors/invalid-key.error.js';
import { isWellFormedText } from '../common/well-formed-text.js';
import { UnknownRateLimitPolicyError } from '../errors/unknown-rate-limit-policy.error.js';
import { RATE_LIMIT_CONFIG, type ResolvedRateLimitConfig } from './resolve-rate-limit-config.js';
import { resolveRateLimitPolicy, type ResolvedRateLimitPolicy } from './resolve-rate-limit-policy.js';
import type { RateLimitPolicy } from './rate-limit-policy.interface.js';
import type { RateLimitConsumeOptions, RateLimitResult } from './rate-limit-result.interface.js';
import type { RateLimitCombinedResult, RateLimitRequest } from './rate-limit-request.interface.js';
import { rateLimitStorageKey } from './rate-limit-key.js';
import { describeState, fits, stateAt } from './rate-limit-state.js';
import { RateLimitStore } from './rate-limit-store.interface.js';
import { RateLimitStoreErrorReporter } from './rate-limit-store-error.reporter.js';
import { RateLimitDecisionQueue } from './rate-limit-decision.queue.js';
import { RateLimitBlockCache } from './rate-limit-block.cache.js';

/** A decision plus what a refund needs. */
interface Decided {
  result: RateLimitResult;
  storageKey: string;
  /** The window the units were taken in; absent when nothing was taken. */
  windowStart?: number;
}

/**
 * The injectable rate limiter, for any code path (HTTP routes use it through the guard; GraphQL
 * resolvers, WebSocket gateways and jobs call it directly). Each `consume` is decided atomically by
 * the store; a rejected call takes nothing. Under load, calls on one key that arrive together share
 * one store call, and a key known to be over its limit is refused here until it can fit (see
 * `RateLimitDecisionQueue`, `RateLimitBlockCache`). Store failures never throw out of
 * `consume`/`peek`: the policy's `onStoreError` decides, and the failure is logged.
 */
@Injectable()
export class RateLimitService implements OnModuleDestroy {
  private readonly settings: ResolvedRateLimitConfig;
  private readonly reporter: RateLimitStoreErrorReporter;
  /** Bounds every store call by `timeoutMs` with one timer for all pending calls (decisions are a hot path). */
  private readonly deadlines: CallDeadlines;
  /** Decisions wait here for a store call, joined per key; their deadline starts when sent. */
  private readonly decisions: RateLimitDecisionQueue;
  /** Keys known to be over their limit, refused without a store call until they can fit. */
  private readonly blocks: RateLimitBlockCache;
  /** Inline policy objects are validated once each, not per call. */
  private readonly inline = new WeakMap<RateLimitPolicy, ResolvedRateLimitPolicy>();

  constructor(
    @Inject(RateLimitStore) private readonly store: StoreHandle<RateLimitStore>,
    @Inject(RATE_LIMIT_CONFIG) config: ResolvedRateLimitConfig,
  ) {
    this.settings = config;
    this.reporter = new RateLimitStoreErrorReporter(this.settings.errorLogIntervalMs);
    this.deadlines = new CallDeadlines(store.provider, this.settings.timeoutMs);
    this.decisions = new RateLimitDecisionQueue(store, (operation, call) => this.call(operation, call));
    // Blocks are recorded after a decision, so the store is open by then and its clock is known.
    const clock: Clock = { now: () => (store.current?.clock ?? systemClock).now() };
    this.blocks = new RateLimitBlockCache(clock);
  }

  /** The backend the counters live on. */
  get provider(): ProviderName {
    return this.store.provider;
  }

  /** The named policies of `rateLimit.policies`. */
  get policies(): ReadonlyMap<string, ResolvedRateLimitPolicy> {
    return this.settings.policies;
  }

  /** A policy name or object, validated and with defaults; throws `UnknownRateLimitPolicyError` or `BallastConfigError`. */
  resolve(policy: string | RateLimitPolicy, where = 'RateLimitService'): ResolvedRateLimitPolicy {
    if (typeof policy === 'string') {
      const named = this.settings.policies.get(policy);
      if (!named) throw new UnknownRateLimitPolicyError(policy, where, [...this.settings.policies.keys()]);
      return named;
    }
    let resolved = this.inline.get(policy);
    if (!resolved) {
      resolved = resolveRateLimitPolicy(policy, where, { onStoreError: this.settings.onStoreError });
      this.inline.set(policy, resolved);
    }
    return resolved;
  }

  /**
   * Takes `cost` units (default 1) from `key`'s budget under `policy` if they fit. Rejected calls
   * take nothing, so a client that keeps retrying while limited does not push its reset further out.
   */
  async consume(key: string, policy: string | RateLimitPolicy, options: RateLimitConsumeOptions = {}): Promise<RateLimitResult> {
    const resolved = this.resolve(policy);
    assertRateLimitKey(key);
    const cost = costOf(options.cost, resolved);
    return (await this.decide(key, resolved, cost)).result;
  }

  /**
   * Checks several policies for one call, all or nothing: allowed only if every policy allows, and
   * when one rejects, the units the others took are given back, so a rejected call takes from none.
   * The checks run concurrently; in the moment between a take and its refund, another call may see
   * the unit taken (stricter, never looser, than each limit).
   */
  async consumeAll(requests: readonly RateLimitRequest[]): Promise<RateLimitCombinedResult> {
    // Validate everything before taking anything.
    const checks = requests.map((request) => {
      const policy = this.resolve(request.policy);
      assertRateLimitKey(request.key);
      return { key: request.key, policy, cost: costOf(request.cost, policy) };
    });
    const decided = await Promise.all(checks.map((check) => this.decide(check.key, check.policy, check.cost)));
    const allowed = decided.every((d) => d.result.allowed);
    if (!allowed) {
      await Promise.all(
        decided.map(async (d, i) => {
          const { policy, cost } = checks[i]!;
          if (!d.result.allowed || d.windowStart === undefined || cost === 0) return;
          if (await this.refund(d.storageKey, policy, cost, d.windowStart)) {
            d.result = { ...d.result, remaining: Math.min(policy.limit, d.result.remaining + cost) };
          }
        }),
      );
    }
    return { allowed, results: decided.map((d) => d.result) };
  }

  /** What a call of cost 1 would get now, without taking anything. */
  async peek(key: string, policy: string | RateLimitPolicy): Promise<RateLimitResult> {
    const resolved = this.resolve(policy);
    assertRateLimitKey(key);
    const storageKey = rateLimitStorageKey(resolved, key);
    try {
      const { state: stored, now } = await this.call('peek', () => this.store.use((store) => store.peek(storageKey, resolved)));
      const state = stateAt(resolved, stored, now);
      return describeState(resolved, state, now, fits(resolved, state, now, 1), 1);
    } catch (error) {
      return this.onStoreFailure(resolved, toBackendError(this.store.provider, 'rateLimit.peek', error));
    }
  }

  /** Forgets `key`'s counter under `policy` (e.g. after a successful login). Store failures throw `BallastBackendError`. */
  async reset(key: string, policy: string | RateLimitPolicy): Promise<void> {
    const resolved = this.resolve(policy);
    assertRateLimitKey(key);
    const storageKey = rateLimitStorageKey(resolved, key);
    this.blocks.forget(storageKey);
    await this.call('reset', () => this.store.use((store) => store.reset(storageKey, resolved)));
  }

  async onModuleDestroy(): Promise<void> {
    await this.store.close();
  }

  private async decide(key: string, policy: ResolvedRateLimitPolicy, cost: number): Promise<Decided> {
    const storageKey = rateLimitStorageKey(policy, key);
    const blocked = this.blocks.check(storageKey, cost);
    if (blocked) return { result: blocked, storageKey };
    try {
      const decision = await this.decisions.decide(storageKey, policy, cost);
      const state = stateAt(policy, decision.state, decision.now);
      const result = describeState(policy, state, decision.now, decision.allowed, cost);
      if (!decision.allowed) this.blocks.record(storageKey, cost, result);
      return { result, storageKey, windowStart: decision.allowed ? decision.state.windowStart : undefined };
    } catch (error) {
      return { result: this.onStoreFailure(policy, toBackendError(this.store.provider, 'rateLimit.consume', error)), storageKey };
    }
  }

  /** Resolves `true` when the units went back; a failed refund is logged, never thrown. */
  private async refund(storageKey: string, policy: ResolvedRateLimitPolicy, cost: number, windowStart: number): Promise<boolean> {
    try {
      await this.call('refund', () => this.store.use((store) => store.refund(storageKey, policy, cost, windowStart)));
      return true;
    } catch (error) {
      const failure = toBackendError(this.store.provider, 'rateLimit.refund', error);
      this.reporter.failed(failure, `policy "${policy.name}" keeps ${cost} unit(s) of a rejected call`);
      return false;
    }
  }

  private onStoreFailure(policy: ResolvedRateLimitPolicy, error: BallastError): RateLimitResult {
    const allowed = policy.onStoreError === 'allow';
    this.reporter.failed(error, `policy "${policy.name}" ${allowed ? 'let the call through' : 'refused the call'} (onStoreError: '${policy.onStoreError}')`);
    return { allowed, limit: policy.limit, remaining: allowed ? policy.limit : 0, resetMs: 0, retryAfterMs: 0, storeError: error };
  }

  private async call<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const value = await this.deadlines.run(`rateLimit.${operation}`, work);
    this.reporter.succeeded();
    return value;
  }
}

function assertRateLimitKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidKeyError(key, `expected a string, got ${key === null ? 'null' : typeof key}`);
  if (key.length === 0) throw new InvalidKeyError(key, 'the key is empty');
  // Hashed as UTF-8, a lone surrogate becomes U+FFFD: '\ud800' and '\udbff' would share a budget.
  if (!isWellFormedText(key)) throw new InvalidKeyError(key, 'the key contains a lone UTF-16 surrogate (half of a character, e.g. an emoji cut by slice())');
}

function costOf(cost: unknown, policy: ResolvedRateLimitPolicy): number {
  if (cost === undefined) return 1;
  if (typeof cost !== 'number' || !Number.isSafeInteger(cost) || cost < 0 || cost > policy.limit) {
    throw new InvalidCostError(cost, policy.limit, policy.name);
  }
  return cost;
}
