package api

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPIDocument is the OpenAPI 3.1 description of every route New
// serves. openapi_test.go validates it and checks real answers of a
// running server against it: a route, a status, an error code or a field
// that the handlers change must change here too.
//
//go:embed openapi.json
var openAPIDocument []byte

var openAPILength = strconv.Itoa(len(openAPIDocument))

// serveOpenAPI answers GET /api/v1/openapi.json, without authentication.
// It is static, so shared caches may keep it for a few minutes.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", openAPILength)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument)
}
