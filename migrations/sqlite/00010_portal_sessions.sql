-- +goose Up
-- Portal sessions (SSO from the company's site), the logins they start,
-- their one-time e-mail codes, and the customer's postal address.

ALTER TABLE tenants ADD COLUMN portal_link_minutes INTEGER NOT NULL DEFAULT 30;
ALTER TABLE tenants ADD COLUMN portal_link_email_login BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tenants ADD COLUMN default_return_url TEXT NOT NULL DEFAULT '';

ALTER TABLE sessions ADD COLUMN portal_session_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN locale TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN return_url TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN embedded BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE users ADD COLUMN address_cep TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address_street TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address_number TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address_complement TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address_district TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address_city TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address_state TEXT NOT NULL DEFAULT '';

CREATE TABLE portal_sessions (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    api_key_id       TEXT NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash       TEXT NOT NULL UNIQUE,
    return_url       TEXT NOT NULL DEFAULT '',
    forward          TEXT NOT NULL DEFAULT '',
    locale           TEXT NOT NULL DEFAULT '',
    embed            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       DATETIME NOT NULL,
    expires_at       DATETIME NOT NULL,
    opened_at        DATETIME,
    open_ip          TEXT NOT NULL DEFAULT '',
    login_session_id TEXT NOT NULL DEFAULT '',
    logged_out_at    DATETIME
);
CREATE INDEX portal_sessions_tenant ON portal_sessions(tenant_id, created_at);

-- One-time codes that let a customer whose auth_url expired get in through
-- their e-mail (tenants.portal_link_email_login). Only a hash is kept.
CREATE TABLE portal_login_codes (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    portal_session_id TEXT NOT NULL REFERENCES portal_sessions(id) ON DELETE CASCADE,
    code_hash         TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    created_at        DATETIME NOT NULL,
    expires_at        DATETIME NOT NULL,
    used_at           DATETIME
);
CREATE INDEX portal_login_codes_session ON portal_login_codes(portal_session_id, created_at);

-- +goose Down
SELECT 1;
