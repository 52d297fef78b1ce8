import { decisionScript } from './rate-limit-prelude.lua.js';

/**
 * Token bucket, stored as units taken, drained at limit/window per ms since the last decision; a
 * clock that steps back refills nothing. Only a decision that takes units writes; the key expires once the
 * bucket would be full again.
 */
export const TOKEN_BUCKET_LUA = decisionScript(`
  start, used, prev = now, 0, 0
  if storedStart then
    used = math.max(0, storedUsed - math.max(0, now - storedStart) * limit / window)
    start = math.max(now, storedStart)
  end
  load = used
  grant()
  if granted > 0 then save(start + math.ceil(used * window / limit)) end`);
