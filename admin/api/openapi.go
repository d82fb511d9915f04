package api

import _ "embed"

// openAPIDocument is the OpenAPI 3.1 description of every route Register
// mounts under /api/v1/admin, served at GET /api/v1/admin/openapi.json.
// admin/api/openapi_test.go checks it against real answers of a running
// server: a route, a status, an error code or a field that the handlers
// change must change here too. It is the same for every tenant (its server
// URL is relative), but it is served behind the API's authentication like
// every other admin route, so only the client may keep it, for a few
// minutes: shared caches may not.
//
//go:embed openapi.json
var openAPIDocument []byte
