-- +goose Up
-- A CPF or CNPJ belongs to one user of a tenant: plugins find a customer's
-- records by document (the finance plugin's contracts, the loyalty app's
-- customers), so a second user holding it would see the first one's. The
-- store turns a violation into the form error document_taken. An install
-- whose users already share a document stops here ("UNIQUE constraint
-- failed: users.tenant_id, users.document"); docs/operations.md ("Users who
-- share a CPF or CNPJ") shows how to find and fix them before upgrading.
CREATE UNIQUE INDEX users_tenant_document ON users (tenant_id, document) WHERE document <> '';

-- +goose Down
DROP INDEX users_tenant_document;
