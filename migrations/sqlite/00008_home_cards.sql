-- +goose Up
-- A wasm plugin may show a short card on its tile of the portal's home
-- page (its card handler's view); off until a gestor turns it on.

ALTER TABLE plugins ADD COLUMN home_card BOOLEAN NOT NULL DEFAULT 0;

-- +goose Down
SELECT 1;
