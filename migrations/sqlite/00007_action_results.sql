-- +goose Up
-- The outcome of a wasm plugin's form action, kept for a short time so
-- that the portal can answer the POST with a redirect to a page that shows
-- it (/p/{slug}?r={id}): reloading, bookmarking or going back never runs
-- the action again (a second segunda via, a second payment). A result
-- belongs to the browser session that sent the form and is gone with it.
CREATE TABLE action_results (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    plugin_id   TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    status      INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL
);
CREATE INDEX action_results_session ON action_results(session_id, created_at);
CREATE INDEX action_results_expiry ON action_results(expires_at);

-- +goose Down
-- Forward-only: Portico never rolls a schema back.
SELECT 1;
