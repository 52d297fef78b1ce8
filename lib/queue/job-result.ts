import type { Logger } from '@nestjs/common';
import { toJson } from '../common/json-value.js';
import { SerializationError } from '../errors/serialization.error.js';

/** A job's result as every store records it: a JSON-safe value, and its JSON text. */
export interface StoredResult {
  value: unknown;
  json: string;
}

const NULL_RESULT: StoredResult = { value: null, json: 'null' };

/**
 * The result stored for what a handler returned. A handler's work is done by the time it returns,
 * so a result JSON cannot hold exactly must not fail (and re-run) the job: it is stored as
 * `JSON.stringify` gives it (a Date becomes its ISO string), or as `null` when even that fails, with
 * a warning. The same rule on every store, so a result reads back the same wherever it ran.
 */
export function toStoredResult(value: unknown, jobName: string, logger: Logger): StoredResult {
  if (value === undefined) return NULL_RESULT;
  try {
    return { value, json: toJson(value) };
  } catch (error) {
    if (!(error instanceof SerializationError)) throw error;
    try {
      const text = JSON.stringify(value);
      if (text === undefined) return NULL_RESULT;
      const stored = JSON.parse(text) as unknown;
      // What JSON.stringify keeps must be storable too: a NUL or a lone surrogate survives it.
      const json = toJson(stored);
      logger.warn(`Result of job '${jobName}' is not plain JSON at ${error.path} (${error.reason}); stored as JSON.stringify gives it`);
      return { value: stored, json };
    } catch {
      logger.warn(`Result of job '${jobName}' cannot be stored as JSON (${error.reason} at ${error.path}); stored as null`);
      return NULL_RESULT;
    }
  }
}
