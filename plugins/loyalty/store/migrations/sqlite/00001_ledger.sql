-- +goose Up
-- The loyalty programme: its settings, customers, an append-only ledger,
-- the balance it sums to (never negative), the earned lots redemptions and
-- expiry consume, the stores whose POS tokens call the API, and the
-- idempotency keys of the API's mutations.

CREATE TABLE settings (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    cents_per_point    INTEGER NOT NULL DEFAULT 1000 CHECK (cents_per_point > 0),
    rounding           TEXT NOT NULL DEFAULT 'down' CHECK (rounding IN ('down', 'nearest', 'up')),
    min_purchase_cents INTEGER NOT NULL DEFAULT 0 CHECK (min_purchase_cents >= 0),
    expiry_days        INTEGER NOT NULL DEFAULT 0 CHECK (expiry_days >= 0),
    updated_by         TEXT NOT NULL DEFAULT '',
    updated_at         DATETIME NOT NULL
);

CREATE TABLE customers (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    subject    TEXT UNIQUE,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL DEFAULT '',
    phone      TEXT NOT NULL DEFAULT '',
    document   TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);
-- One customer per e-mail and per document (when given): the database
-- enforces it, so concurrent creations cannot make two.
CREATE UNIQUE INDEX customers_email ON customers(email) WHERE email <> '';
CREATE UNIQUE INDEX customers_document ON customers(document) WHERE document <> '';

CREATE TABLE balances (
    customer_id TEXT PRIMARY KEY REFERENCES customers(id),
    points      INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0)
);

CREATE TABLE ledger (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers(id),
    kind         TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'expire', 'adjust')),
    points       INTEGER NOT NULL CHECK (points <> 0),
    amount_cents INTEGER NOT NULL DEFAULT 0,
    receipt      TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    store        TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL DEFAULT '',
    source_key   TEXT UNIQUE,
    expires_at   DATETIME,
    created_at   DATETIME NOT NULL
);
CREATE INDEX ledger_customer ON ledger(customer_id, id);

CREATE TABLE lots (
    entry_id    TEXT PRIMARY KEY REFERENCES ledger(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    remaining   INTEGER NOT NULL CHECK (remaining >= 0),
    expires_at  DATETIME
);
CREATE INDEX lots_customer ON lots(customer_id, remaining);
CREATE INDEX lots_expiry ON lots(expires_at);

CREATE TABLE stores (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    revoked_at DATETIME
);

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    response     TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_age ON idempotency_keys(created_at);

-- The ledger is append-only: the database itself refuses changes.
-- +goose StatementBegin
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;
-- +goose StatementEnd

-- +goose Down
SELECT 1;
