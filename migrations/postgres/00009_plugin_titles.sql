-- +goose Up
-- A plugin's menu title per language, as a JSON object ("es" → "Finanzas");
-- a language without one shows the title.

ALTER TABLE plugins ADD COLUMN titles TEXT NOT NULL DEFAULT '{}';

-- +goose Down
SELECT 1;
