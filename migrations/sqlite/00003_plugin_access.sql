-- +goose Up
-- Plugin access: what a plugin is granted (host functions and the user's
-- profile fields), the iframe launch settings, client-secret rotation with an
-- overlap window, and the durable key-value store of wasm plugins.

ALTER TABLE plugins ADD COLUMN grants TEXT NOT NULL DEFAULT '[]';
ALTER TABLE plugins ADD COLUMN user_fields TEXT NOT NULL DEFAULT '[]';
ALTER TABLE plugins ADD COLUMN token_ttl_seconds INTEGER NOT NULL DEFAULT 60;
ALTER TABLE plugins ADD COLUMN launch_method TEXT NOT NULL DEFAULT 'post';
ALTER TABLE plugins ADD COLUMN previous_client_secret_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE plugins ADD COLUMN previous_secret_expires_at DATETIME;

CREATE TABLE plugin_kv (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id  TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      BLOB NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, plugin_id, key)
);

-- +goose Down
SELECT 1;
