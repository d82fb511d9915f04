-- +goose Up
-- A deleted plugin's secrets, module versions and key-value store are
-- erased with it (storage.DeletePlugin); erase those of the plugins
-- deleted before.
DELETE FROM plugin_secrets WHERE plugin_id IN (SELECT id FROM plugins WHERE deleted_at IS NOT NULL);
DELETE FROM plugin_versions WHERE plugin_id IN (SELECT id FROM plugins WHERE deleted_at IS NOT NULL);
DELETE FROM plugin_kv WHERE plugin_id IN (SELECT id FROM plugins WHERE deleted_at IS NOT NULL);

-- +goose Down
SELECT 1;
