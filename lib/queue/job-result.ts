import type { Logger } from '@nestjs/common';
import { toJson } from '../common/json-value.js';
import { SerializationError } from '../errors/serialization.error.js';

/**
 * The value stored as a job's result. A handler's work is done by the time it returns, so a result
 * JSON cannot hold exactly must not fail (and re-run) the job: it is stored as `JSON.stringify`
 * gives it (a Date becomes its ISO string), or as `null` when even that fails, with a warning.
 */
export function toStoredResult(value: unknown, jobName: string, logger: Logger): unknown {
  if (value === undefined) return null;
  try {
    toJson(value);
    return value;
  } catch (error) {
    if (!(error instanceof SerializationError)) throw error;
    try {
      const text = JSON.stringify(value);
      const stored = text === undefined ? null : (JSON.parse(text) as unknown);
      // What JSON.stringify keeps must be storable too: a NUL or a lone surrogate survives it.
      toJson(stored);
      logger.warn(`Result of job '${jobName}' is not plain JSON at ${error.path} (${error.reason}); stored as JSON.stringify gives it`);
      return stored;
    } catch {
      logger.warn(`Result of job '${jobName}' cannot be stored as JSON (${error.reason} at ${error.path}); stored as null`);
      return null;
    }
  }
}
