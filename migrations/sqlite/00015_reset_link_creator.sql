-- +goose Up
-- Who made a reset link for someone else: the gestor's user id (NULL for
-- the links people ask for themselves and for those made with an API key).
-- When that gestor is deactivated or stops being a gestor, the links they
-- made and that are still unused stop working (storage.updateUser).
ALTER TABLE password_resets ADD COLUMN created_by TEXT;
CREATE INDEX password_resets_created_by ON password_resets (tenant_id, created_by) WHERE created_by IS NOT NULL AND used_at IS NULL;

-- +goose Down
DROP INDEX password_resets_created_by;
ALTER TABLE password_resets DROP COLUMN created_by;
