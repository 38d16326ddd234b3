-- The seeds' `firecracker` VM mode is `microvm` (QEMU's microvm machine: Firecracker is on neither
-- registry these deployments install from). No plane ever ran as `firecracker`; settings that named
-- it follow the rename.
ALTER TABLE user_vm_instances DROP CONSTRAINT user_vm_instances_mode_check;
UPDATE user_vm_instances SET mode = 'microvm' WHERE mode = 'firecracker';
ALTER TABLE user_vm_instances ADD CONSTRAINT user_vm_instances_mode_check CHECK (mode IN ('process', 'docker', 'microvm', 'local'));
UPDATE users SET vm_mode = 'microvm' WHERE vm_mode = 'firecracker';
UPDATE agents SET default_vm_mode = 'microvm' WHERE default_vm_mode = 'firecracker';
UPDATE organizations SET default_vm_mode = 'microvm' WHERE default_vm_mode = 'firecracker';
