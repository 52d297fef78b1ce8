import { randomFillSync } from 'node:crypto';

/** Random bytes drawn per refill: one system call serves 256 ids. */
const POOL_BYTES = 16 * 256;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A new job id for BullMQ: a UUIDv7 (RFC 9562), 48 bits of the time in ms and 74 random bits.
 * BullMQ's own ids come from a counter kept in Redis, which starts again at 1 when a server that
 * keeps nothing on disk restarts, so ids already handed out (and reported, logged, stored by the app)
 * would name new jobs. An id drawn here does not depend on what the server remembers; it sorts by
 * creation time, and two processes drawing in the same millisecond collide with a probability of
 * about 2^-74 per pair. It is never a whole number, so BullMQ accepts it as a job id and it cannot be
 * mistaken for a Postgres-generated id or a custom one (custom ids may not be whole numbers either).
 */
export function newBullmqJobId(now: number = Date.now()): string {
  if (offset === POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const b = pool.subarray(offset, offset + 16);
  offset += 16;
  // 48-bit big-endian timestamp; division keeps it exact past 2^32.
  const high = Math.floor(now / 0x1_0000_0000);
  const low = now >>> 0;
  b[0] = (high >>> 8) & 0xff;
  b[1] = high & 0xff;
  b[2] = (low >>> 24) & 0xff;
  b[3] = (low >>> 16) & 0xff;
  b[4] = (low >>> 8) & 0xff;
  b[5] = low & 0xff;
  b[6] = (b[6]! & 0x0f) | 0x70; // version 7
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 9562 variant
  let id = '';
  for (let i = 0; i < 16; i++) {
    id += HEX[b[i]!];
    if (i === 3 || i === 5 || i === 7 || i === 9) id += '-';
  }
  return id;
}
