-- +goose Up
-- A wasm plugin may reach private addresses (an ERP on the company's
-- network) only when a gestor turns this on and the operator lists the
-- address in PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS. Off for every plugin.

ALTER TABLE plugins ADD COLUMN allow_private_network BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
SELECT 1;
