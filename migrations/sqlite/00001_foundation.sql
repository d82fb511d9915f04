-- +goose Up
-- Tenants, their hostnames, users, plugin registrations and sessions.
-- Every row outside "tenants" carries tenant_id; every query filters by it.

CREATE TABLE tenants (
    id              TEXT PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    default_locale  TEXT NOT NULL DEFAULT 'pt-BR',
    brand_name      TEXT NOT NULL DEFAULT '',
    logo_url        TEXT NOT NULL DEFAULT '',
    primary_color   TEXT NOT NULL DEFAULT '#1f5fa8',
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);

CREATE TABLE tenant_hosts (
    hostname   TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL
);
CREATE INDEX tenant_hosts_tenant ON tenant_hosts(tenant_id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    document      TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    roles         TEXT NOT NULL,
    locale        TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT 1,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    UNIQUE (tenant_id, email)
);

CREATE TABLE plugins (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    slug            TEXT NOT NULL,
    name            TEXT NOT NULL,
    title           TEXT NOT NULL,
    type            TEXT NOT NULL CHECK (type IN ('iframe', 'wasm')),
    url             TEXT NOT NULL DEFAULT '',
    module_ref      TEXT NOT NULL DEFAULT '',
    icon            TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT 1,
    show_in_portal  BOOLEAN NOT NULL DEFAULT 1,
    show_in_manager BOOLEAN NOT NULL DEFAULT 0,
    size            TEXT NOT NULL DEFAULT 'medio',
    width           INTEGER NOT NULL DEFAULT 0,
    height          INTEGER NOT NULL DEFAULT 0,
    visible_to      TEXT NOT NULL CHECK (visible_to IN ('cliente', 'sindico', 'ambos')),
    auth_type       TEXT NOT NULL CHECK (auth_type IN ('token', 'none')),
    position        INTEGER NOT NULL DEFAULT 0,
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    deleted_at      DATETIME,
    UNIQUE (tenant_id, slug)
);
CREATE INDEX plugins_menu ON plugins(tenant_id, position);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    role         TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL
);
CREATE INDEX sessions_user ON sessions(tenant_id, user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- +goose Down
-- Forward-only: Portico never rolls a schema back.
SELECT 1;
