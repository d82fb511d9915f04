-- +goose Up
-- Who created an API key: the gestor's user id (NULL for a key created
-- with another key, by the command line, or before this column). When
-- that person is deactivated or stops being a gestor, the keys they
-- created are revoked in the same transaction (storage.updateUser): a
-- person who leaves the company must not keep its API in a copy of a key.
-- Keys created before are matched to their creator by the e-mail the
-- creator had then (api_keys.created_by), when it is still a user's.
ALTER TABLE api_keys ADD COLUMN created_by_user_id TEXT;
UPDATE api_keys SET created_by_user_id = (
    SELECT u.id FROM users u
    WHERE u.tenant_id = api_keys.tenant_id AND u.email = api_keys.created_by
);
CREATE INDEX api_keys_created_by_user ON api_keys (tenant_id, created_by_user_id) WHERE created_by_user_id IS NOT NULL AND revoked_at IS NULL;

-- +goose Down
DROP INDEX api_keys_created_by_user;
ALTER TABLE api_keys DROP COLUMN created_by_user_id;
