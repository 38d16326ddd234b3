-- Which replica hosts a user's plane (started it, holds its socket), until when: the fence that keeps
-- two replicas from starting the same user's plane at once (each would void the other's connect
-- ticket). Renewed with the run leases; a dead replica's claim lapses.
ALTER TABLE user_vm_instances ADD COLUMN host_replica TEXT, ADD COLUMN host_until TIMESTAMPTZ;
