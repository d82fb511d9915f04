package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/openapicheck"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestDatabaseOutage: while PostgreSQL cannot be reached, a logged-in
// customer's requests fail at once with 503, Retry-After and a message in
// their language (an API client gets the JSON error, a browser the error
// page), and the portal recovers by itself when the database returns —
// the session is still valid and the change listener reconnects.
func TestDatabaseOutage(t *testing.T) {
	store, proxy := testdb.OpenBehindProxy(t)
	p := servertest.StartOnStore(t, store, nil)
	for deadline := time.Now().Add(10 * time.Second); !store.Coherent(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("change listener did not connect")
		}
	}
	c := p.NewClient(t, "")
	c.Login("cliente@demo.portico.test", demo.Password)
	get := func(path, accept string) (int, string, http.Header) {
		req, _ := http.NewRequest("GET", p.URL+path, nil)
		req.Header.Set("Accept", accept)
		req.Header.Set("Accept-Language", "es")
		res, err := c.HTTP.Do(req)
		testdb.Must(t, err, "GET %s", path)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	if st, body, _ := get("/api/v1/me/menu", "application/json"); st != 200 {
		t.Fatalf("menu before the outage: %d %s", st, body)
	}
	spec, _ := loadOpenAPI(t, p)

	proxy.Cut()
	for deadline := time.Now().Add(5 * time.Second); store.Coherent(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still coherent 5 s after the database went away")
		}
	}
	start := time.Now()
	st, body, h := get("/api/v1/me/menu", "application/json")
	took := time.Since(start)
	var prob struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal([]byte(body), &prob)
	if st != 503 || prob.Error.Code != "database_unavailable" || h.Get("Retry-After") == "" {
		t.Fatalf("API during the outage: %d %s (Retry-After %q)", st, body, h.Get("Retry-After"))
	}
	// The answer is the one the public API's OpenAPI document describes.
	ex := &openapicheck.Exchange{Method: "GET", Path: "/api/v1/me/menu", Header: http.Header{"Accept": {"application/json"}},
		Status: st, ResHeader: h, ResBody: []byte(body)}
	if err := spec.Check(ex, true); err != nil {
		t.Errorf("the outage's answer breaks the OpenAPI document: %v", err)
	}
	if took > 2*time.Second {
		t.Errorf("the refusal took %v: it should fail fast", took)
	}
	st, body, _ = get("/", "text/html")
	if st != 503 || !strings.Contains(body, "no está disponible") {
		t.Fatalf("page during the outage: %d\n%.600s", st, body)
	}
	if st, body, _ := get("/readyz", "text/plain"); st != 503 {
		t.Errorf("readyz during the outage: %d %s", st, body)
	}

	proxy.Restore()
	var last string
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, body, _ := get("/api/v1/me/menu", "application/json")
		if st == 200 && store.Coherent() {
			break
		}
		last = body
		if time.Now().After(deadline) {
			t.Fatalf("not recovered 10 s after the database returned: %d %s", st, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("recovered %v after the database returned", time.Since(deadline.Add(-10*time.Second)))
}
