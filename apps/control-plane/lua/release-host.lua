-- Gives up this replica's claim on a user's plane, if it still holds it.
-- KEYS[1]  the user's host key
-- ARGV[1]  this replica's id
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
