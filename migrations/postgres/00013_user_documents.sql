-- +goose Up
-- A CPF or CNPJ belongs to one user of a tenant: plugins find a customer's
-- records by document (the finance plugin's contracts, the loyalty app's
-- customers), so a second user holding it would see the first one's. The
-- store turns a violation into the form error document_taken. An install
-- whose users already share a document stops here with the message below;
-- docs/operations.md ("Users who share a CPF or CNPJ") shows how to find
-- and fix them before upgrading.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM users WHERE document <> ''
               GROUP BY tenant_id, document HAVING count(*) > 1) THEN
        RAISE EXCEPTION 'two or more users of one tenant share a CPF or CNPJ: see "Users who share a CPF or CNPJ" in docs/operations.md';
    END IF;
END
$$;
-- +goose StatementEnd
CREATE UNIQUE INDEX users_tenant_document ON users (tenant_id, document) WHERE document <> '';

-- +goose Down
DROP INDEX users_tenant_document;
