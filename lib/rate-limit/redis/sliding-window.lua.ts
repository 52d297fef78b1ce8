import { decisionScript } from './rate-limit-prelude.lua.js';

/**
 * Sliding window (two-window weighted counter): load = prev * (window - elapsed) / window + used.
 * Only an allowed call writes; the key expires one window after its window ends, when it no longer
 * weighs on anything.
 */
export const SLIDING_WINDOW_LUA = decisionScript(`
  start = now - now % window
  used, prev = 0, 0
  if storedStart == start then
    used, prev = storedUsed, storedPrev
  elseif storedStart == start - window then
    prev = storedUsed
  end
  allowed = prev * (window - (now - start)) / window + used + cost <= limit + eps
  if allowed then
    used = used + cost
    save(start + 2 * window)
  end`);
