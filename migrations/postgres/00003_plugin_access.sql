-- +goose Up
-- Plugin access: what a plugin is granted (host functions and the user's
-- profile fields), the iframe launch settings, client-secret rotation with an
-- overlap window, and the durable key-value store of wasm plugins.

ALTER TABLE plugins ADD COLUMN grants TEXT NOT NULL DEFAULT '[]';
ALTER TABLE plugins ADD COLUMN user_fields TEXT NOT NULL DEFAULT '[]';
ALTER TABLE plugins ADD COLUMN token_ttl_seconds INTEGER NOT NULL DEFAULT 60;
ALTER TABLE plugins ADD COLUMN launch_method TEXT NOT NULL DEFAULT 'post';
ALTER TABLE plugins ADD COLUMN previous_client_secret_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE plugins ADD COLUMN previous_secret_expires_at TIMESTAMPTZ;

CREATE TABLE plugin_kv (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id  TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      BYTEA NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, plugin_id, key)
);

-- +goose Down
SELECT 1;
