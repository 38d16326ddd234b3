-- Raises a run's fence to the attempt that just took the run over; never lowers it.
-- KEYS[1]  the run's fence
-- ARGV[1]  the new attempt
-- ARGV[2]  time to live, ms
-- Returns the fence as it was.
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return current
