import { FIT_EPSILON } from '../../../rate-limit/rate-limit-state.js';

/**
 * The frame of every decision script. One call decides a batch: KEYS are the counters, ARGV[1] is
 * `"limit,window,cost,count;..."` with one group per key, in order; `count` calls of `cost` each on
 * that key that arrived together. The script runs atomically, so each decision sees the one before
 * it on the same key, exactly as if each were a call of its own. Time
 * is the server's (`TIME`), so app servers' clocks do not matter; scripts that call TIME and then
 * write are replicated by effects (Redis >= 5, Valkey).
 *
 * A counter is one string key, `"<window start>:<used>:<prev used>"` (the three numbers of
 * `RateLimitState`), written with `SET ... PXAT` (Redis >= 6.2) so one call stores it and its expiry.
 * The reply is one string, `"<now>;<granted>:<start>:<used>:<prev>;..."`, one group per key, where
 * `granted` is how many of the group's calls fit (the first ones, in order).
 * Packing arguments and reply into strings costs the server little and halves the client's work
 * per decision, compared with one argument and one reply element per number.
 *
 * `body` decides one key: it reads `storedStart/storedUsed/storedPrev` (nil when absent) and `limit,
 * window, cost, count, now`, sets `start, used, prev` and the `load` in use before this decision,
 * then calls `grant()`, which takes what fits and sets `granted`, and `save(expiresAt)` when it writes.
 */
export function decisionScript(body: string): string {
  return `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local eps = ${FIT_EPSILON}
local out = {}
local i = 0
local key, start, used, prev
local limit, window, cost, count, load, granted
local function save(expiresAt)
  redis.call('SET', key, start .. ':' .. used .. ':' .. prev, 'PXAT', expiresAt)
end
-- As many of the count calls as fit under the limit, in order (all of them at cost 0).
local function grant()
  if cost == 0 then granted = count
  else granted = math.max(0, math.min(count, math.floor((limit + eps - load) / cost))) end
  used = used + granted * cost
end
for l, w, c, n in string.gmatch(ARGV[1], '([^,;]+),([^,;]+),([^,;]+),([^,;]+)') do
  i = i + 1
  key = KEYS[i]
  limit, window, cost, count = tonumber(l), tonumber(w), tonumber(c), tonumber(n)
  local storedStart, storedUsed, storedPrev
  local stored = redis.call('GET', key)
  if stored then
    local s, u, p = string.match(stored, '^([^:]+):([^:]+):([^:]+)$')
    storedStart, storedUsed, storedPrev = tonumber(s), tonumber(u), tonumber(p)
  end
${body}
  out[i] = granted .. ':' .. start .. ':' .. used .. ':' .. prev
end
return now .. ';' .. table.concat(out, ';')`;
}
