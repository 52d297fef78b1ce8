import { InvalidJobNameError } from '../errors/invalid-job-name.error.js';
import { isWellFormedText } from '../common/well-formed-text.js';

/** Longest queue name; it is part of every Redis key and Postgres index entry of the queue. */
export const MAX_QUEUE_NAME_LENGTH = 64;
/** Longest job name. */
export const MAX_JOB_NAME_LENGTH = 128;
/** Longest custom job id (`jobId`). */
export const MAX_JOB_ID_LENGTH = 256;

// No ':' in queue names or ids: BullMQ builds keys with it and refuses it, so Postgres refuses it too
// and a name that works on one provider works on all.
const QUEUE_NAME = /^[A-Za-z0-9_.-]+$/;
const JOB_NAME = /^[A-Za-z0-9_.:/-]+$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

export function assertQueueName(queue: unknown): asserts queue is string {
  assertBounded('queue', queue, MAX_QUEUE_NAME_LENGTH);
  if (!QUEUE_NAME.test(queue)) throw new InvalidJobNameError('queue', queue, `use letters, digits and _ . - only`);
}

export function assertJobName(name: unknown): asserts name is string {
  assertBounded('name', name, MAX_JOB_NAME_LENGTH);
  if (!JOB_NAME.test(name)) throw new InvalidJobNameError('name', name, `use letters, digits and _ . : / - only`);
}

/**
 * A custom id: any printable text without ':' that is not a whole number, because generated ids are
 * whole numbers on BullMQ and a custom '42' would be mistaken for (or collide with) job 42.
 */
export function assertJobId(jobId: unknown): asserts jobId is string {
  assertBounded('jobId', jobId, MAX_JOB_ID_LENGTH);
  if (CONTROL.test(jobId) || jobId.includes(':')) throw new InvalidJobNameError('jobId', jobId, "control characters and ':' are not allowed");
  if (/^-?\d+$/.test(jobId)) throw new InvalidJobNameError('jobId', jobId, 'a custom id may not be a whole number (generated ids are); add a prefix, e.g. "order-42"');
}

/** An id passed to `getJob`, `retry` or `remove`: generated or custom. */
export function assertAnyJobId(id: unknown): asserts id is string {
  assertBounded('id', id, MAX_JOB_ID_LENGTH);
}

function assertBounded(field: 'queue' | 'name' | 'jobId' | 'id', value: unknown, max: number): asserts value is string {
  if (typeof value !== 'string') throw new InvalidJobNameError(field, value, 'expected a string');
  if (value.length === 0) throw new InvalidJobNameError(field, value, 'it is empty');
  if (value.length > max) throw new InvalidJobNameError(field, value, `it is ${value.length} characters; the maximum is ${max}`);
  // Every store would replace the half character, so two such ids would name one job (or none).
  if (!isWellFormedText(value)) throw new InvalidJobNameError(field, value, 'it contains a lone UTF-16 surrogate (half of a character, e.g. an emoji cut by slice())');
}
