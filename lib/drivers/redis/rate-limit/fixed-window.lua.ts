import { decisionScript } from './rate-limit-prelude.lua.js';

/** Fixed window: a counter from an earlier window counts as empty. Only a decision that takes units writes; the key expires when its window ends. */
export const FIXED_WINDOW_LUA = decisionScript(`
  start = now - now % window
  used, prev = 0, 0
  if storedStart == start then used = storedUsed end
  load = used
  grant()
  if granted > 0 then save(start + window) end`);
