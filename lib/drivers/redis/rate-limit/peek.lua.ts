/** KEYS[1] the counter. `"<server time ms>|<stored value or empty>"`; writes nothing. */
export const PEEK_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
return now .. '|' .. (redis.call('GET', KEYS[1]) or '')`;
