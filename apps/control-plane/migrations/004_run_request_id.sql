-- The HTTP request that created a run: one id to grep across the control plane's and the plane's logs.
ALTER TABLE runs ADD COLUMN request_id VARCHAR(100);
