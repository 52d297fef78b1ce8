import { FIT_EPSILON } from '../rate-limit-state.js';

/**
 * The frame of every decision script. One call decides a batch: KEYS are the counters, ARGV[1] is
 * `"limit,window,cost;..."` with one group per key, in order. The script runs atomically, so each
 * decision sees the one before it on the same key, exactly as if each were a call of its own. Time
 * is the server's (`TIME`), so app servers' clocks do not matter; scripts that call TIME and then
 * write are replicated by effects (Redis >= 5, Valkey).
 *
 * A counter is one string key, `"<window start>:<used>:<prev used>"` (the three numbers of
 * `RateLimitState`), written with `SET ... PXAT` (Redis >= 6.2) so one call stores it and its expiry.
 * The reply is one string, `"<now>;<allowed 0|1>:<start>:<used>:<prev>;..."`, one group per key.
 * Packing arguments and reply into strings costs the server little and halves the client's work
 * per decision, compared with one argument and one reply element per number.
 *
 * `body` decides one key: it reads `storedStart/storedUsed/storedPrev` (nil when absent) and `limit,
 * window, cost, now`, sets `start, used, prev, allowed`, and calls `save(expiresAt)` when it writes.
 */
export function decisionScript(body: string): string {
  return `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local eps = ${FIT_EPSILON}
local out = {}
local i = 0
local key, start, used, prev
local function save(expiresAt)
  redis.call('SET', key, start .. ':' .. used .. ':' .. prev, 'PXAT', expiresAt)
end
for limit, window, cost in string.gmatch(ARGV[1], '([^,;]+),([^,;]+),([^,;]+)') do
  i = i + 1
  key = KEYS[i]
  limit, window, cost = tonumber(limit), tonumber(window), tonumber(cost)
  local storedStart, storedUsed, storedPrev
  local stored = redis.call('GET', key)
  if stored then
    local s, u, p = string.match(stored, '^([^:]+):([^:]+):([^:]+)$')
    storedStart, storedUsed, storedPrev = tonumber(s), tonumber(u), tonumber(p)
  end
  local allowed
${body}
  out[i] = (allowed and '1:' or '0:') .. start .. ':' .. used .. ':' .. prev
end
return now .. ';' .. table.concat(out, ';')`;
}
