-- +goose Up
-- Who created an API key: the gestor's user id (NULL for a key created
-- with another key, by the command line, or before this column). When
-- that person is deactivated or stops being a gestor, the keys they
-- created are revoked in the same transaction (storage.updateUser): a
-- person who leaves the company must not keep its API in a copy of a key.
-- Keys created before are matched to their creator by the e-mail the
-- creator had then (api_keys.created_by), when it is still the e-mail of
-- an active gestor: the keys of someone who had already left, or had
-- stopped being a gestor, stay unattributed (they are listed with the
-- e-mail that made them; a gestor may revoke them), rather than being
-- revoked later, in that person's name, by an unrelated edit.
ALTER TABLE api_keys ADD COLUMN created_by_user_id TEXT;
UPDATE api_keys SET created_by_user_id = (
    SELECT u.id FROM users u
    WHERE u.tenant_id = api_keys.tenant_id AND u.email = api_keys.created_by
      AND u.active AND (',' || u.roles || ',') LIKE '%,gestor,%'
);
CREATE INDEX api_keys_created_by_user ON api_keys (tenant_id, created_by_user_id) WHERE created_by_user_id IS NOT NULL AND revoked_at IS NULL;

-- +goose Down
DROP INDEX api_keys_created_by_user;
ALTER TABLE api_keys DROP COLUMN created_by_user_id;
