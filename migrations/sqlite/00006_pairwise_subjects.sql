-- +goose Up
-- Pairwise subjects: a user's opaque id (the launch token's sub, the wasm
-- input's user id) is now one per (tenant, plugin, user), so two plugins of
-- a tenant cannot correlate a customer by it (docs/design-launch.md,
-- "Pairwise subjects"). The per-tenant subjects of 00004 are dropped: no
-- code reads them any more; a plugin that stored one sees each of its users
-- under a new id, once.

CREATE TABLE plugin_subjects (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id  TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, plugin_id, user_id),
    UNIQUE (tenant_id, plugin_id, subject)
);

DROP TABLE launch_subjects;

-- +goose Down
SELECT 1;
