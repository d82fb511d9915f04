-- +goose Up
-- Idempotency keys held by a request that died (docs/loyalty-api.md,
-- "Idempotency"): a key's claim is a random token, so that a retry can take
-- over a key left in flight past the API's time limit and only the holder
-- of the current claim records or releases it. And a customer created under
-- an Idempotency-Key carries the request's source key, unique as the
-- ledger's, so a retry that runs again after such a takeover finds the
-- customer the first attempt made instead of creating a second one.
ALTER TABLE idempotency_keys ADD COLUMN claim TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN source_key TEXT;
CREATE UNIQUE INDEX customers_source_key ON customers(source_key);

-- +goose Down
DROP INDEX customers_source_key;
ALTER TABLE customers DROP COLUMN source_key;
ALTER TABLE idempotency_keys DROP COLUMN claim;
