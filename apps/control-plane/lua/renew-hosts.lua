-- Keeps this replica's claim on the users whose planes it hosts.
-- KEYS     the users' host keys
-- ARGV[1]  this replica's id
-- ARGV[2]  time to live, ms
-- Returns the 1-based indexes of the keys another replica holds now (claims this one lost).
local lost = {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if not holder or holder == ARGV[1] then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
  else
    lost[#lost + 1] = i
  end
end
return lost
