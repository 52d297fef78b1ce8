import { InvalidJobOptionError } from '../errors/invalid-job-option.error.js';
import type { JobState } from './job.interface.js';
import { MAX_JOB_PAGE, type JobListQuery } from './job-list.interface.js';

const STATES: readonly JobState[] = ['waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled'];
const DEFAULT_PAGE = 50;
/** Longest cursor accepted; real ones are well under 200 characters. */
const MAX_CURSOR_LENGTH = 512;

/** Checks `getJobs` options; throws `InvalidJobOptionError` naming the option. */
export function checkJobListOptions(options: unknown): JobListQuery {
  const source = 'getJobs';
  if (typeof options !== 'object' || options === null) throw new InvalidJobOptionError('options', options, '{ state, limit?, cursor? }', source);
  const { state, limit = DEFAULT_PAGE, cursor, ...rest } = options as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new InvalidJobOptionError(unknown, rest[unknown], 'one of state, limit, cursor', source);
  if (!STATES.includes(state as JobState)) throw new InvalidJobOptionError('state', state, STATES.join(', '), source);
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_JOB_PAGE) {
    throw new InvalidJobOptionError('limit', limit, `an integer from 1 to ${MAX_JOB_PAGE}`, source);
  }
  const checked = state as JobState;
  return {
    state: checked,
    limit,
    after: cursor === undefined ? undefined : decodeCursor(cursor, checked),
    cursor: (key) => pageCursor(checked, key),
    invalidCursor: () => invalidCursor(checked),
  };
}

/** The cursor that continues after the job whose sort key is `key`, in a listing of `state`. */
function pageCursor(state: JobState, key: readonly string[]): string {
  return Buffer.from(JSON.stringify([state, ...key])).toString('base64url');
}

/** A cursor's key; refused when it is not one `pageCursor` made for this state. */
function decodeCursor(cursor: unknown, state: JobState): string[] {
  const refuse = () => new InvalidJobOptionError('cursor', cursor, `the next of a previous getJobs page in state '${state}'`, 'getJobs');
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) throw refuse();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  if (!Array.isArray(parsed) || parsed[0] !== state || parsed.length < 2 || !parsed.every((part) => typeof part === 'string')) throw refuse();
  return parsed.slice(1) as string[];
}

/** A cursor key the backend finds malformed (well-formed JSON, wrong content). */
function invalidCursor(state: JobState): InvalidJobOptionError {
  return new InvalidJobOptionError('cursor', '(malformed)', `the next of a previous getJobs page in state '${state}'`, 'getJobs');
}
