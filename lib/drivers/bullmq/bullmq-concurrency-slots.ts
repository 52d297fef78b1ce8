import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * Takes a slot of a concurrency key for a job, atomically, on the Redis clock. Slots whose lease ran
 * out (their worker died) are dropped first; a job that holds a slot already keeps it (renewed).
 * Granted: -1. Refused (the key runs its limit): the ms until the first slot's lease runs out.
 * KEYS: the key's slots (sorted set, job id by lease end), its parked jobs; ARGV: job id, limit,
 * lease ms.
 */
const ACQUIRE = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return -1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(first[2]) - now, 1)`;

/**
 * Parks a refused job, once it is in BullMQ's delayed set, to be promoted when a run of its key
 * ends. A slot may have come free since the refusal (its release found nobody parked): then the
 * longest-parked job is taken out again at once, for the caller to promote. KEYS: slots, parked;
 * ARGV: job id, limit.
 */
const PARK = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZADD', KEYS[2], 'NX', now, ARGV[1])
redis.call('PEXPIRE', KEYS[2], 86400000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return false end
local next = redis.call('ZPOPMIN', KEYS[2])
return next[1] or false`;

/** Gives a job's slot back and takes the longest-parked job of the key, if any. KEYS: slots, parked; ARGV: job id. */
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
local next = redis.call('ZPOPMIN', KEYS[2])
return next[1] or false`;

/** Extends the slots a worker holds. KEYS: the slots of each job's key; ARGV: lease ms, then the job ids in KEYS order. */
const RENEW = `
local clock = redis.call('TIME')
local until_ = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do redis.call('ZADD', key, 'XX', until_, ARGV[i + 1]) end
return #KEYS`;

/** Parked ids a release passes over (their jobs gone or moved on) before it stops looking. */
const PROMOTE_TRIES = 5;

/**
 * Concurrency keys on Valkey/Redis: per key, a sorted set of the jobs running under it (each with
 * its lease end) beside BullMQ's keys of the queue (`<queue>:ballast:slots:<key>`; a job id never
 * holds ':', so these never meet a job's keys). A worker takes a slot before the handler runs and
 * gives it back when the run ends; a job refused a slot goes back to BullMQ's delayed set, its
 * attempt not counted, and waits there parked (`<queue>:ballast:parked:<key>`, joined once it is
 * in the delayed set) until a run of its key ends and promotes it, or until the first slot's
 * lease would run out. A worker that dies gives
 * its slots back when their leases run out, as BullMQ gives its jobs back.
 */
export class BullmqConcurrencySlots {
  constructor(
    private readonly redis: Redis,
    private readonly queueOf: (name: string) => Queue,
  ) {}

  /** Null when the job got a slot; else the ms to wait before it tries again (`park` it once it waits). */
  async acquire(queueName: string, key: string, limit: number, id: string, leaseMs: number): Promise<number | null> {
    const queue = this.queueOf(queueName);
    const reply = (await this.redis.eval(ACQUIRE, 2, slotsKey(queue, key), parkedKey(queue, key), id, limit, leaseMs)) as number;
    return reply < 0 ? null : reply;
  }

  /**
   * Parks a refused job that now waits in BullMQ's delayed set. Parked only once it is there, so a
   * release that takes it out can always promote it; a slot freed in between is used at once.
   */
  async park(queueName: string, key: string, limit: number, id: string): Promise<void> {
    const queue = this.queueOf(queueName);
    const next = (await this.redis.eval(PARK, 2, slotsKey(queue, key), parkedKey(queue, key), id, limit)) as string | null;
    if (next !== null) await this.promote(queueName, key, next);
  }

  /** Gives the slot back and promotes the longest-parked job of the key, if any. */
  async release(queueName: string, key: string, id: string): Promise<void> {
    const queue = this.queueOf(queueName);
    const next = (await this.redis.eval(RELEASE, 2, slotsKey(queue, key), parkedKey(queue, key), id)) as string | null;
    if (next !== null) await this.promote(queueName, key, next);
  }

  /**
   * Moves a parked job (still delayed) to waiting, so it takes the free slot now rather than when
   * its delay ends. A parked id whose job is gone or no longer delayed is passed over for the next.
   */
  private async promote(queueName: string, key: string, first: string): Promise<void> {
    const queue = this.queueOf(queueName);
    let next: string | null = first;
    for (let i = 0; i < PROMOTE_TRIES && next !== null; i++) {
      const job = await queue.getJob(next);
      try {
        if (job) {
          await job.promote();
          return;
        }
      } catch {
        // No longer delayed (it ran, or was removed): the next one.
      }
      next = (await this.redis.eval(RELEASE, 2, slotsKey(queue, key), parkedKey(queue, key), '')) as string | null;
    }
  }

  /** Extends the slots of the given running jobs by `leaseMs` from now; a slot already lost stays lost. */
  async renew(queueName: string, held: ReadonlyArray<{ id: string; key: string }>, leaseMs: number): Promise<void> {
    if (held.length === 0) return;
    const queue = this.queueOf(queueName);
    await this.redis.eval(RENEW, held.length, ...held.map(({ key }) => slotsKey(queue, key)), leaseMs, ...held.map(({ id }) => id));
  }
}

function slotsKey(queue: Queue, key: string): string {
  return queue.toKey(`ballast:slots:${key}`);
}

function parkedKey(queue: Queue, key: string): string {
  return queue.toKey(`ballast:parked:${key}`);
}
