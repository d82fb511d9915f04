-- +goose Up
-- What revoking an API key reads (storage.endKeysPortalSessions): the
-- portal sessions the key created, and the logins they opened. Ending a
-- portal session (the company's logout, the customer's "Voltar ao site")
-- reads the second too. Without them a revocation scanned every portal
-- session of the tenant and, for each batch of them, every session.
CREATE INDEX portal_sessions_key ON portal_sessions (tenant_id, api_key_id);
CREATE INDEX sessions_portal_session ON sessions (tenant_id, portal_session_id) WHERE portal_session_id <> '';

-- +goose Down
SELECT 1;
