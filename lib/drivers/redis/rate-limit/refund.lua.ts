/**
 * KEYS[1] the counter; ARGV algorithm code (fw, sw, tb), cost, window start of the consume being
 * undone, window ms. Gives `cost` units back while they still count: fixed window while that window
 * is stored; sliding window from `used` while it is current, from `prev` once the next window is;
 * token bucket always. Keeps the key's expiry.
 */
export const REFUND_LUA = `
local algorithm, cost = ARGV[1], tonumber(ARGV[2])
local consumedIn, window = tonumber(ARGV[3]), tonumber(ARGV[4])
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local s, u, p = string.match(stored, '^([^:]+):([^:]+):([^:]+)$')
local start, used, prev = tonumber(s), tonumber(u), tonumber(p)
if algorithm == 'tb' or start == consumedIn then used = math.max(0, used - cost)
elseif algorithm == 'sw' and start == consumedIn + window then prev = math.max(0, prev - cost)
else return 0 end
redis.call('SET', KEYS[1], start .. ':' .. used .. ':' .. prev, 'KEEPTTL')
return 1`;
