import { decisionScript } from './rate-limit-prelude.lua.js';

/**
 * Sliding window (two-window weighted counter): load = prev * (window - elapsed) / window + used.
 * Only a decision that takes units writes; the key expires one window after its window ends, when it no longer
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
  load = prev * (window - (now - start)) / window + used
  grant()
  if granted > 0 then save(start + 2 * window) end`);
