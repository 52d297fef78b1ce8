import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AddedJob } from '../../queue/added-job.interface.js';
import type { NewJob } from '../../queue/new-job.interface.js';
import { deduplicationId } from './bullmq-job-options.js';

/**
 * How an add went on BullMQ, which answers every add with one job id: the new job's, or the existing
 * one's. Ballast draws each new job's id itself, so a different id means the add was folded into
 * another job. Two cases answer with the id that was asked for either way, and take a read sent
 * just before the add, on the same connection (so it runs first, with no round trip of its own):
 * - a `jobId`: `EXISTS` of the job tells a found job from a created one;
 * - a debounce: `GET` of its deduplication key tells a replaced job from a first one.
 * Two adds of the same id or key in the same instant from two processes can both read "absent";
 * the jobs are still right (one job, or one replaced), only the second outcome may say `created`.
 */
export class BullmqAddOutcome {
  private readonly before: Promise<number | string | null> | undefined;

  /** Sends the read this add needs, if any; call it right before the add, in the same tick. */
  constructor(
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly job: NewJob,
    /** The id the add asks for: the `jobId`, or the one Ballast drew. */
    private readonly askedId: string,
    /** A debounce whose key an earlier entry of the same bulk took (its read would say "absent"). */
    private readonly keyTakenInCall = false,
  ) {
    if (job.dedupe?.mode === 'debounce') this.before = redis.get(queue.toKey(`de:${deduplicationId(job.dedupe)}`));
    else if (job.jobId !== undefined) this.before = redis.exists(queue.toKey(job.jobId));
    // Read only once the add went through; an add that fails reports its own error instead.
    this.before?.catch(() => undefined);
  }

  /** The outcome, from the id BullMQ answered. */
  async of(answeredId: string): Promise<AddedJob> {
    const before = await this.before;
    if (answeredId === this.askedId) {
      if (this.job.dedupe?.mode === 'debounce') return { id: answeredId, outcome: before === null && !this.keyTakenInCall ? 'created' : 'replaced' };
      // BullMQ answers an existing jobId before it looks at deduplication, with the same id.
      if (this.job.jobId !== undefined) return { id: answeredId, outcome: before === 1 ? 'deduplicated' : 'created' };
      return { id: answeredId, outcome: 'created' };
    }
    if (this.job.dedupe?.mode === 'debounce') {
      // The key's job was running: BullMQ kept this add as the job it creates, under the asked id,
      // when that run ends. Otherwise the job was due and waiting for a worker, and took the add.
      const next = await this.redis.hget(this.queue.toKey(`dn:${deduplicationId(this.job.dedupe)}`), 'jid');
      if (next === this.askedId) return { id: this.askedId, outcome: 'created' };
    }
    return { id: answeredId, outcome: 'deduplicated' };
  }
}
