-- Exports expire: a written export (ready or error) is kept until expires_at, then purged with its chunks.
ALTER TABLE audit_log_export ADD COLUMN expires_at timestamptz;
CREATE INDEX audit_log_export_expiry ON audit_log_export (expires_at) WHERE expires_at IS NOT NULL;
-- exports written before they expired get the default seven days from now
UPDATE audit_log_export SET expires_at = now() + interval '7 days' WHERE state <> 'pending';
