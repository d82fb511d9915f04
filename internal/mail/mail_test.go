package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/mail"
	"github.com/portico-dev/portico/internal/testsmtp"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want *mail.Config
		err  string
	}{
		{"smtp://u:p@mail.example.com?from=portal@example.com", &mail.Config{Host: "mail.example.com", Port: 587, Username: "u", Password: "p", From: "portal@example.com", TLS: mail.TLSStartTLS}, ""},
		{"smtps://mail.example.com?from=portal@example.com", &mail.Config{Host: "mail.example.com", Port: 465, From: "portal@example.com", TLS: mail.TLSImplicit}, ""},
		{"smtp://127.0.0.1:2525?from=a@b.c&tls=none", &mail.Config{Host: "127.0.0.1", Port: 2525, From: "a@b.c", TLS: mail.TLSNone}, ""},
		{"smtp://u:p@localhost:25?from=a@b.c&tls=none", &mail.Config{Host: "localhost", Port: 25, Username: "u", Password: "p", From: "a@b.c", TLS: mail.TLSNone}, ""},
		{"smtp://u:p@mail.example.com?from=a@b.c&tls=none", nil, "only allowed to a relay on this machine"},
		{"http://mail.example.com?from=a@b.c", nil, "scheme"},
		{"smtp://mail.example.com", nil, "from="},
		{"smtp://mail.example.com?from=Portal%20%3Ca@b.c%3E", nil, "bare e-mail"},
		{"smtp://mail.example.com:0?from=a@b.c", nil, "port"},
		{"smtp://mail.example.com:99999?from=a@b.c", nil, "port"},
		{"smtp://mail.example.com/x?from=a@b.c", nil, "no path"},
		{"smtp://mail.example.com?from=a@b.c&tls=maybe", nil, "tls="},
		{"smtp://?from=a@b.c", nil, "host"},
	} {
		got, err := mail.ParseURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want one saying %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || *got != *tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParseURL: whatever an operator writes, ParseURL answers without
// panicking, and what it accepts has a host, a port in range, a known TLS
// mode and a sender with no line breaks.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"smtp://u:p@h:587?from=a@b.c", "smtps://h?from=a@b.c&tls=none", "smtp://h?from=a@b.c%0d%0aBcc:x@y.z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := mail.ParseURL(s)
		if err != nil {
			return
		}
		if c.Host == "" || c.Port < 1 || c.Port > 65535 || strings.ContainsAny(c.From, "\r\n") ||
			(c.TLS != mail.TLSStartTLS && c.TLS != mail.TLSImplicit && c.TLS != mail.TLSNone) {
			t.Fatalf("accepted %q as %+v", s, c)
		}
	})
}

// TestSend delivers a message to a real SMTP server on 127.0.0.1.
func TestSend(t *testing.T) {
	srv := testsmtp.Start(t)
	cfg, err := mail.ParseURL("smtp://" + srv.Addr + "?from=portal@exemplo.com&tls=none")
	if err != nil {
		t.Fatal(err)
	}
	err = mail.New(*cfg).Send(context.Background(), mail.Message{To: "ana@exemplo.com", Subject: "Redefinição de senha", Text: "Olá, Ana.\nAbra o link."})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Next(t, 10*time.Second)
	if m.From != "portal@exemplo.com" || len(m.To) != 1 || m.To[0] != "ana@exemplo.com" || !strings.Contains(m.Data, "Subject: =?UTF-8?") {
		t.Errorf("received %+v", m)
	}
}
