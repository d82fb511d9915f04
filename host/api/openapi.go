package api

import _ "embed"

// openAPIDocument is the OpenAPI 3.1 description of every route Register
// mounts and of host/launch's token exchange and key set (the public API
// an integrator sees), served at GET /api/v1/openapi.json. host/server/openapi_test.go
// checks it against real answers of a running server: a route, a status,
// an error code or a field that the handlers change must change here too.
// It is the same for every tenant (its server URL is relative), so shared
// caches may keep it for a few minutes.
//
//go:embed openapi.json
var openAPIDocument []byte
