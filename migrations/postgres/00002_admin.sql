-- +goose Up
-- Managers' admin: tenant settings, plugin credentials and wasm fields,
-- per-plugin configuration and encrypted secrets, API keys, password-reset
-- links and the append-only audit log.

ALTER TABLE tenants ADD COLUMN portal_session_minutes INTEGER NOT NULL DEFAULT 60;

ALTER TABLE plugins ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
ALTER TABLE plugins ADD COLUMN client_secret_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE plugins ADD COLUMN allowed_hosts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE plugins ADD COLUMN timeout_ms INTEGER NOT NULL DEFAULT 2000;
ALTER TABLE plugins ADD COLUMN memory_mb INTEGER NOT NULL DEFAULT 64;
ALTER TABLE plugins ADD COLUMN active_version TEXT NOT NULL DEFAULT '';
ALTER TABLE plugins ADD COLUMN previous_version TEXT NOT NULL DEFAULT '';

CREATE TABLE plugin_versions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id   TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL,
    abi_version INTEGER NOT NULL DEFAULT 0,
    module      BYTEA,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, plugin_id, number)
);

CREATE TABLE plugin_config (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id  TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('string', 'number', 'boolean')),
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, plugin_id, key)
);

CREATE TABLE plugin_secrets (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id  TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    ciphertext BYTEA NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, plugin_id, name)
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    at          TIMESTAMPTZ NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    actor_label TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    before_json TEXT NOT NULL DEFAULT '',
    after_json  TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_tenant_at ON audit_log(tenant_id, at);

-- The audit log is append-only, enforced by the database as well as the code.
-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
SELECT 1;
