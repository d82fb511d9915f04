package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// cutProxy forwards TCP connections to a backend until cut, which closes
// every connection and refuses new ones, as a PostgreSQL that went away
// would; restore listens again on the same address.
type cutProxy struct {
	t       *testing.T
	addr    string
	backend string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newCutProxy(t *testing.T, backend string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testdb.Must(t, err, "listen")
	p := &cutProxy{t: t, addr: ln.Addr().String(), backend: backend}
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", p.backend)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(b, c); b.Close() }()
			go func() { _, _ = io.Copy(c, b); c.Close() }()
		}
	}()
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cutProxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	testdb.Must(p.t, err, "listen again on %s", p.addr)
	p.serve(ln)
}

// TestDatabaseOutage: while PostgreSQL cannot be reached, a logged-in
// customer's requests fail at once with 503, Retry-After and a message in
// their language (an API client gets the JSON error, a browser the error
// page), and the portal recovers by itself when the database returns —
// the session is still valid and the change listener reconnects.
func TestDatabaseOutage(t *testing.T) {
	u, err := url.Parse(testdb.URL(t, "postgres"))
	testdb.Must(t, err, "parse url")
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.addr
	store, err := storage.Open(context.Background(), u.String(), storage.Options{Logger: testdb.Logger(t)})
	testdb.Must(t, err, "open store")
	t.Cleanup(func() { _ = store.Close() })
	testdb.Must(t, store.Migrate(context.Background()), "migrate")
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

	proxy.cut()
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

	proxy.restore()
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
