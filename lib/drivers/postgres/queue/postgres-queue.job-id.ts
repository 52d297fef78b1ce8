/** What a generated id looks like: the decimal text of a positive bigint. */
const GENERATED_ID = /^[1-9][0-9]{0,17}$/;

/**
 * Splits a public job id into the lookup parameters of the SQL: `[key, null]` for a caller's
 * jobId, `[null, id]` for a generated one. `QueueService` refuses whole-number jobIds, so the two
 * cannot name the same job.
 */
export function publicIdParams(id: string): [key: string | null, generated: string | null] {
  return GENERATED_ID.test(id) ? [null, id] : [id, null];
}
