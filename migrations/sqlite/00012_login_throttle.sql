-- +goose Up
-- Failed-attempt budgets shared by every node (storage.Throttle): the
-- login's per account and per client address, and the forgot-password
-- page's. key_hash is an HMAC-SHA-256 (under a key derived from
-- PORTICO_SECRET_KEY) of the budget's name and key, so the table names no
-- e-mail or address. Times are Unix milliseconds, numbers on SQLite too.
-- failures count inside the window that ends at window_end; holds_cur and
-- holds_prev are the attempts in flight reserved in the 30-second period
-- hold_epoch and the one before (older reservations have lapsed); row_id
-- is the row's random generation, so a reservation taken before a reset
-- releases nothing in the row that replaced it. Rows whose window ended
-- are swept.

CREATE TABLE login_throttle (
    key_hash   BLOB PRIMARY KEY,
    row_id     INTEGER NOT NULL,
    failures   INTEGER NOT NULL,
    window_end INTEGER NOT NULL,
    hold_epoch INTEGER NOT NULL,
    holds_cur  INTEGER NOT NULL,
    holds_prev INTEGER NOT NULL
);
CREATE INDEX login_throttle_window_end ON login_throttle (window_end);

-- +goose Down
DROP TABLE login_throttle;
