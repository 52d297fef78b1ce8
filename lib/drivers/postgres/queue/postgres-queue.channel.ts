import { createHash } from 'node:crypto';
import type { JobSignal } from '../../../queue/job-store.interface.js';
import { isSafeIdentifier } from '../../../core/config/identifiers.js';

/** Longest LISTEN channel Postgres keeps whole (NAMEDATALEN - 1). */
const MAX_CHANNEL_LENGTH = 63;

/**
 * The LISTEN/NOTIFY channel of a schema's queues: `<schema>_queue`, or a truncated schema name plus
 * a hash when that would pass 63 characters. Derived from the already-validated schema, so it is a
 * safe identifier too; every process on the schema derives the same name.
 */
export function queueChannel(schema: string): string {
  const plain = `${schema}_queue`;
  const channel =
    plain.length <= MAX_CHANNEL_LENGTH
      ? plain
      : `${schema.slice(0, MAX_CHANNEL_LENGTH - 15)}_${createHash('sha1').update(schema).digest('hex').slice(0, 8)}_queue`;
  if (!isSafeIdentifier(channel)) throw new Error(`unsafe queue channel derived from schema ${JSON.stringify(schema)}`);
  return channel;
}

/**
 * Decodes a notification. Payloads are `<ms>|<queue>` (jobs of that queue are due in that many ms,
 * 0 for now; the earliest of the statement), `p|<queue>` (the queue was paused) or
 * `c|<row id>|<queue>` (that running job was cancelled); the SQL builds them, the queue last (a
 * queue name may hold '|'). Anything else (another writer on the channel) is ignored as undefined.
 */
export function parseQueueSignal(payload: string): JobSignal | undefined {
  const bar = payload.indexOf('|');
  if (bar <= 0) return undefined;
  const head = payload.slice(0, bar);
  const queue = payload.slice(bar + 1);
  if (head === 'p') return { kind: 'paused', queue };
  if (head === 'c') {
    const refBar = queue.indexOf('|');
    const ref = queue.slice(0, refBar);
    return refBar > 0 && /^\d+$/.test(ref) ? { kind: 'cancel', queue: queue.slice(refBar + 1), ref } : undefined;
  }
  const waitMs = Number(head);
  return Number.isFinite(waitMs) ? { kind: 'ready', queue, waitMs } : undefined;
}
