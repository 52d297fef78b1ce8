import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * How long a job admitted to BullMQ's wait list holds its key's admission without starting: past it
 * (the job was removed, cancelled or deduplicated away before it ran) the admission lapses, so a
 * lost one cannot hold a key back for good. A job that really waits that long is only refused a
 * slot when it starts, and parked then.
 */
const ADMISSION_TTL_MS = 60_000;
/**
 * The delay a job parked at `add` waits in BullMQ's delayed set if nothing promotes it: the
 * fallback should the worker that ends a run of its key die between giving the slot back and
 * promoting it. Promotions are the normal path.
 */
export const PARKED_DELAY_MS = 60_000;

/** The Redis clock in ms, as scripts read it (`TIME`), so leases compare on one clock for every worker host. */
const NOW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

/** Drops slots whose lease ran out (their worker died) and admissions that lapsed; sets `room`. KEYS[1] slots, KEYS[2] admitted; `limit` set. */
const ROOM = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ${ADMISSION_TTL_MS})
local room = limit - redis.call('ZCARD', KEYS[1]) - redis.call('ZCARD', KEYS[2])`;

/** Admits parked jobs, the longest parked first, while there is room; returns their ids (to promote). KEYS[3] parked. */
const ADMIT_PARKED = `
local out = {}
while room > 0 do
  local next = redis.call('ZPOPMIN', KEYS[3])
  if not next[1] then break end
  redis.call('ZADD', KEYS[2], now, next[1])
  out[#out + 1] = next[1]
  room = room - 1
end
return out`;

/**
 * At `add`, for jobs of one key due now: admits as many as the key has room for (running plus
 * admitted below its limit) to BullMQ's wait list, in order; the rest are to be parked. Returns how
 * many were admitted. KEYS: slots, admitted, parked; ARGV: limit, then the job ids.
 */
const ADMIT = `${NOW}
local limit = tonumber(ARGV[1])
${ROOM}
local admitted = 0
for i = 2, #ARGV do
  if admitted >= room then break end
  redis.call('ZADD', KEYS[2], now, ARGV[i])
  admitted = admitted + 1
end
return admitted`;

/**
 * Takes a slot for a job about to run, atomically: its admission becomes a slot (lease end as its
 * score). A job that holds a slot already keeps it (renewed). Granted: -1. Refused (the key runs
 * its limit): the ms until the first slot's lease runs out. KEYS: slots, admitted; ARGV: job id,
 * limit, lease ms.
 */
const ACQUIRE = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  return -1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(first[2]) - now, 1)`;

/**
 * Parks jobs that now wait in BullMQ's delayed set (parked only once they are there, so whoever
 * takes one out can promote it), then admits parked jobs while there is room: a slot freed since
 * they were refused is used at once. KEYS: slots, admitted, parked; ARGV: limit, then the job ids.
 */
const PARK = `${NOW}
local limit = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[3], 'NX', now, ARGV[i]) end
redis.call('PEXPIRE', KEYS[3], 86400000)
${ROOM}
${ADMIT_PARKED}`;

/** Gives a job's slot back (ARGV[1], '' for none) and admits parked jobs while there is room. KEYS: slots, admitted, parked; ARGV: job id, limit. */
const RELEASE = `${NOW}
local limit = tonumber(ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[1])
${ROOM}
${ADMIT_PARKED}`;

/** Withdraws admissions (jobs that could not be promoted). KEYS[1] admitted; ARGV: job ids. */
const WITHDRAW = `for i = 1, #ARGV do redis.call('ZREM', KEYS[1], ARGV[i]) end return #ARGV`;

/** Extends the slots a worker holds. KEYS: the slots of each job's key; ARGV: lease ms, then the job ids in KEYS order. */
const RENEW = `${NOW}
local until_ = now + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do redis.call('ZADD', key, 'XX', until_, ARGV[i + 1]) end
return #KEYS`;

/** Rounds of promotions a release or park makes at most, when admitted jobs turn out gone. */
const PROMOTE_ROUNDS = 5;

/**
 * Concurrency keys on Valkey/Redis, beside BullMQ's keys of the queue (`<queue>:ballast:…:<key>`; a
 * job id never holds ':', so these never meet a job's keys). Per key, three sorted sets:
 * - `slots`: jobs running under the key, each with its lease end. A worker takes a slot before the
 *   handler runs and gives it back when the run ends; a worker that dies gives its slots back when
 *   their leases run out. This is what enforces the limit.
 * - `admitted`: jobs let into BullMQ's wait list that have not started yet. At most `limit` jobs of
 *   a key are running or admitted: the rest of its jobs are **parked** at `add` (put in BullMQ's
 *   delayed set instead of its wait list), so workers never fetch a deep backlog of one key only to
 *   turn it away, and the other keys' jobs, behind it in the wait list, are not held up.
 * - `parked`: jobs in the delayed set waiting for room, by when they were parked. A run that ends
 *   admits and promotes the longest parked; a job refused a slot when it starts (one let in past
 *   the count, such as a schedule's tick) goes back to the delayed set and is parked too, its
 *   attempt not counted.
 */
export class BullmqConcurrencySlots {
  constructor(
    private readonly redis: Redis,
    private readonly queueOf: (name: string) => Queue,
  ) {}

  /** For jobs of one key due now, in order: how many of the first may go to the wait list (the rest are to be parked). */
  async admit(queueName: string, key: string, limit: number, ids: readonly string[]): Promise<number> {
    const queue = this.queueOf(queueName);
    return (await this.redis.eval(ADMIT, 3, ...this.keys(queue, key), limit, ...ids)) as number;
  }

  /** Null when the job got a slot; else the ms to wait before it tries again (`park` it once it waits). */
  async acquire(queueName: string, key: string, limit: number, id: string, leaseMs: number): Promise<number | null> {
    const queue = this.queueOf(queueName);
    const [slots, admitted] = this.keys(queue, key);
    const reply = (await this.redis.eval(ACQUIRE, 2, slots, admitted, id, limit, leaseMs)) as number;
    return reply < 0 ? null : reply;
  }

  /** Parks jobs that now wait in BullMQ's delayed set, and promotes parked jobs there is room for. */
  async park(queueName: string, key: string, limit: number, ids: readonly string[]): Promise<void> {
    const queue = this.queueOf(queueName);
    const admitted = (await this.redis.eval(PARK, 3, ...this.keys(queue, key), limit, ...ids)) as string[];
    await this.promote(queue, key, limit, admitted);
  }

  /** Gives the slot back and promotes the parked jobs there is room for now. */
  async release(queueName: string, key: string, limit: number, id: string): Promise<void> {
    const queue = this.queueOf(queueName);
    const admitted = (await this.redis.eval(RELEASE, 3, ...this.keys(queue, key), id, limit)) as string[];
    await this.promote(queue, key, limit, admitted);
  }

  /** Extends the slots of the given running jobs by `leaseMs` from now; a slot already lost stays lost. */
  async renew(queueName: string, held: ReadonlyArray<{ id: string; key: string }>, leaseMs: number): Promise<void> {
    if (held.length === 0) return;
    const queue = this.queueOf(queueName);
    await this.redis.eval(RENEW, held.length, ...held.map(({ key }) => this.keys(queue, key)[0]), leaseMs, ...held.map(({ id }) => id));
  }

  /**
   * Moves admitted parked jobs from the delayed set to waiting. One that is gone or no longer
   * delayed (it ran, or was removed) gives its admission back, and the next parked one is admitted
   * in its place.
   */
  private async promote(queue: Queue, key: string, limit: number, ids: string[]): Promise<void> {
    for (let round = 0; round < PROMOTE_ROUNDS && ids.length > 0; round++) {
      const failed: string[] = [];
      await Promise.all(
        ids.map(async (id) => {
          try {
            // BullMQ's own promotion (what `Job.promote` runs), without fetching the job first.
            return await queue.getBackend().promote(id);
          } catch {
            // Gone, or not delayed any more: below.
          }
          failed.push(id);
        }),
      );
      if (failed.length === 0) return;
      const [, admitted] = this.keys(queue, key);
      await this.redis.eval(WITHDRAW, 1, admitted, ...failed);
      ids = (await this.redis.eval(RELEASE, 3, ...this.keys(queue, key), '', limit)) as string[];
    }
  }

  private keys(queue: Queue, key: string): [string, string, string] {
    return [queue.toKey(`ballast:slots:${key}`), queue.toKey(`ballast:admitted:${key}`), queue.toKey(`ballast:parked:${key}`)];
  }
}
