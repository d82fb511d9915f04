-- +goose Up
-- The zone the admin shows times in (model.Tenant.TimeZone): an IANA name,
-- Brasília time for the tenants that existed before.
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'America/Sao_Paulo';

-- +goose Down
ALTER TABLE tenants DROP COLUMN time_zone;
