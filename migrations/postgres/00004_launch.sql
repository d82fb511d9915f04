-- +goose Up
-- Iframe launch tokens: each tenant's Ed25519 signing keys (the private key
-- sealed with PORTICO_SECRET_KEY, bound to tenant and kid), the token ids
-- already exchanged (exactly-once, across processes), and each user's opaque
-- subject. docs/design-launch.md explains the lifecycle.

CREATE TABLE signing_keys (
    tenant_id          TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kid                TEXT NOT NULL,
    algorithm          TEXT NOT NULL,
    public_key         BYTEA NOT NULL,
    private_key_sealed BYTEA NOT NULL,
    created_by         TEXT NOT NULL DEFAULT '',
    created_at         TIMESTAMPTZ NOT NULL,
    activates_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, kid)
);

-- expires_unix is a number so that the sweep compares numbers on SQLite too.
CREATE TABLE launch_jtis (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    jti          TEXT NOT NULL,
    expires_unix BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, jti)
);
CREATE INDEX launch_jtis_expires ON launch_jtis (expires_unix);

CREATE TABLE launch_subjects (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    UNIQUE (tenant_id, subject)
);

-- The exchange finds a plugin by its client id.
CREATE INDEX plugins_client_id ON plugins (tenant_id, client_id);

-- +goose Down
SELECT 1;
