-- +goose Up
-- Pairwise subjects: a user's opaque id (the launch token's sub, the wasm
-- input's user id) is now one per (tenant, plugin, user), so two plugins of
-- a tenant cannot correlate a customer by it (docs/design-launch.md,
-- "Pairwise subjects"). Integrators store the id they were given, so every
-- (plugin, user) pair that existed keeps the per-tenant subject of 00004
-- (copied below for each plugin of the tenant): nothing an integrator
-- stored changes meaning. New pairs (a new plugin or a new user) get a
-- fresh id per plugin. The old table is dropped: no code reads it.

CREATE TABLE plugin_subjects (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id  TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, plugin_id, user_id),
    UNIQUE (tenant_id, plugin_id, subject)
);

INSERT INTO plugin_subjects (tenant_id, plugin_id, user_id, subject, created_at)
SELECT ls.tenant_id, p.id, ls.user_id, ls.subject, ls.created_at
FROM launch_subjects ls
JOIN plugins p ON p.tenant_id = ls.tenant_id;

DROP TABLE launch_subjects;

-- +goose Down
SELECT 1;
