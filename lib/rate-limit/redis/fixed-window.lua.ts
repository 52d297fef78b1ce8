import { decisionScript } from './rate-limit-prelude.lua.js';

/** Fixed window: a counter from an earlier window counts as empty. Only an allowed call writes; the key expires when its window ends. */
export const FIXED_WINDOW_LUA = decisionScript(`
  start = now - now % window
  used, prev = 0, 0
  if storedStart == start then used = storedUsed end
  allowed = used + cost <= limit + eps
  if allowed then
    used = used + cost
    save(start + window)
  end`);
