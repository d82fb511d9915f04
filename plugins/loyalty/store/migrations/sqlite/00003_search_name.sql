-- +goose Up
-- A customer's name as the staff search compares it: lower case, without
-- accents, spaces collapsed (store.FoldName, computed in Go on every write
-- of the name; rows written before this column are filled in when the
-- store opens). SQLite's LOWER and LIKE fold only ASCII, so "ÂNGELA" was
-- not found by "ângela", and no database finds "angela" in "Ângela".
ALTER TABLE customers ADD COLUMN search_name TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE customers DROP COLUMN search_name;
