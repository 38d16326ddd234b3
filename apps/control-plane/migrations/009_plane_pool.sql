-- Shared worker pool vs dedicated planes (seed 004 §10): an org marked dedicated gets planes of its
-- own per user; the others' sessions run on the deployment's shared pool when it has one.
ALTER TABLE organizations ADD COLUMN dedicated_planes BOOLEAN NOT NULL DEFAULT false;
