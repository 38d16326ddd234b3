-- Appends one session's events to its stream (the shared tail of the event log) and publishes them
-- to the replicas that watch the session, unless a newer attempt of the run holds its fence.
-- KEYS[1]  the session's stream; its name is also the pub/sub channel
-- KEYS[2]  the run's fence: the newest attempt that took the run over
-- ARGV[1]  the appending attempt
-- ARGV[2]  the stream's time to live, ms (refreshed by every append)
-- ARGV[3]  the stream's approximate maximum length
-- ARGV[4], ARGV[5], ...  id, event JSON pairs, ids ascending
-- Returns {1, prev}: appended after id prev (0: the stream was empty);
--         {0, fence}: refused, a newer attempt holds the run;
--         {-1, last}: refused, the ids are not above the stream's last id.
local fence = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) < fence then return {0, fence} end
local prev = 0
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if top then prev = tonumber(string.match(top[1], '^%d+')) end
if tonumber(ARGV[4]) <= prev then return {-1, prev} end
-- the published message: prev, then one "id json" line per event (JSON text has no raw newline)
local lines = {tostring(prev)}
for i = 4, #ARGV, 2 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], ARGV[i] .. '-0', 'e', ARGV[i + 1])
  lines[#lines + 1] = ARGV[i] .. ' ' .. ARGV[i + 1]
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', KEYS[1], table.concat(lines, '\n'))
return {1, prev}
