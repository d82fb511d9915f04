// Package testsmtp is a real SMTP server on 127.0.0.1 for tests: it takes
// any mail (no TLS, no authentication, as a local relay would) and hands
// each message to the test. It speaks the commands a client needs (EHLO,
// HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and nothing more.
package testsmtp

import (
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mail is one received message: the envelope and the raw data.
type Mail struct {
	From string
	To   []string
	Data string
}

// Server is a running test SMTP server.
type Server struct {
	Addr string // host:port on 127.0.0.1
	Mail chan Mail
	ln   net.Listener
	wg   sync.WaitGroup
	quit chan struct{} // closed when the test ends: a mail nobody reads is dropped
}

// Start listens on 127.0.0.1 until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), Mail: make(chan Mail, 16), ln: ln, quit: make(chan struct{})}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { close(s.quit); _ = ln.Close(); s.wg.Wait() })
	return s
}

// Next waits up to d for the next message.
func (s *Server) Next(t testing.TB, d time.Duration) Mail {
	t.Helper()
	select {
	case m := <-s.Mail:
		return m
	case <-time.After(d):
		t.Fatalf("no mail arrived within %s", d)
		return Mail{}
	}
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
		}()
	}
}

func (s *Server) session(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(c)
	reply := func(code int, msg string) { _ = tp.PrintfLine("%d %s", code, msg) }
	reply(220, "testsmtp ready")
	var m Mail
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO":
			_ = tp.PrintfLine("250-testsmtp")
			_ = tp.PrintfLine("250-8BITMIME")
			_ = tp.PrintfLine("250 SMTPUTF8")
		case "HELO":
			reply(250, "testsmtp")
		case "MAIL":
			m = Mail{From: addr(line)}
			reply(250, "ok")
		case "RCPT":
			m.To = append(m.To, addr(line))
			reply(250, "ok")
		case "DATA":
			reply(354, "end with .")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m.Data = string(b)
			select {
			case s.Mail <- m:
			case <-s.quit:
				return
			}
			reply(250, "queued")
		case "RSET":
			m = Mail{}
			reply(250, "ok")
		case "NOOP":
			reply(250, "ok")
		case "QUIT":
			reply(221, "bye")
			return
		default:
			reply(502, "not implemented")
		}
	}
}

// addr takes the address out of "MAIL FROM:<a@b> …" or "RCPT TO:<a@b>".
func addr(line string) string {
	i, j := strings.IndexByte(line, '<'), strings.IndexByte(line, '>')
	if i < 0 || j < i {
		return ""
	}
	return line[i+1 : j]
}
