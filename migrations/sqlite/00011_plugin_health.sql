-- +goose Up
-- Each node's health of each wasm plugin it ran (calls, errors, p50/p95,
-- the last errors and log lines, its circuit breaker), published every few
-- seconds by the node that ran the calls, so that the admin of any node
-- shows the whole installation. node_id is the node's random ID,
-- node_host its hostname. A node refreshes its rows while it runs; rows
-- not refreshed for two minutes belong to a node that is gone and are
-- swept. last_errors and logs are bounded JSON arrays, newest first.

CREATE TABLE plugin_health (
    tenant_id          TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id          TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    node_id            TEXT NOT NULL,
    node_host          TEXT NOT NULL DEFAULT '',
    calls              INTEGER NOT NULL DEFAULT 0,
    errors             INTEGER NOT NULL DEFAULT 0,
    p50_ms             REAL NOT NULL DEFAULT 0,
    p95_ms             REAL NOT NULL DEFAULT 0,
    last_errors        TEXT NOT NULL DEFAULT '[]',
    logs               TEXT NOT NULL DEFAULT '[]',
    breaker_open_until DATETIME,
    updated_at         DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, plugin_id, node_id)
);
CREATE INDEX plugin_health_node ON plugin_health(node_id);
CREATE INDEX plugin_health_updated ON plugin_health(updated_at);

-- +goose Down
SELECT 1;
