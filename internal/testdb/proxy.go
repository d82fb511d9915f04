package testdb

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/portico-dev/portico/internal/storage"
)

// CutProxy forwards TCP connections to a backend until Cut, which closes
// every connection and refuses new ones, as a PostgreSQL that went away
// would; Restore listens again on the same address.
type CutProxy struct {
	t       testing.TB
	Addr    string
	backend string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

// NewCutProxy starts a proxy on 127.0.0.1 to backend (host:port), closed
// when the test ends.
func NewCutProxy(t testing.TB, backend string) *CutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Must(t, err, "listen")
	p := &CutProxy{t: t, Addr: ln.Addr().String(), backend: backend}
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

func (p *CutProxy) serve(ln net.Listener) {
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

// Cut closes every connection and stops accepting.
func (p *CutProxy) Cut() {
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

// Restore accepts again on the same address.
func (p *CutProxy) Restore() {
	ln, err := net.Listen("tcp", p.Addr)
	Must(p.t, err, "listen again on %s", p.Addr)
	p.serve(ln)
}

// OpenBehindProxy opens and migrates a store on a fresh PostgreSQL schema
// reached through a CutProxy, so the test can take the database away.
func OpenBehindProxy(t testing.TB) (*storage.Store, *CutProxy) {
	t.Helper()
	u, err := url.Parse(URL(t, "postgres"))
	Must(t, err, "parse url")
	proxy := NewCutProxy(t, u.Host)
	u.Host = proxy.Addr
	st := openURL(t, u.String(), storage.Options{Logger: Logger(t)})
	return st, proxy
}
