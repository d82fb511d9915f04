// Package mail sends Portico's own e-mails (a password reset link) over
// SMTP with github.com/wneessen/go-mail, a maintained client that handles
// STARTTLS, implicit TLS, authentication and header encoding. The server
// is configured by one URL (PORTICO_SMTP_URL, parsed by ParseURL); without
// it Portico sends no mail and offers nothing that needs it.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes of Config.TLS.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, required (smtp:// default)
	TLSImplicit = "implicit" // TLS from the first byte (smtps:// default)
	TLSNone     = "none"     // no TLS: only for a relay on this machine
)

// Config is where and how mail is sent.
type Config struct {
	Host               string
	Port               int
	Username, Password string
	From               string // the sender address, e.g. portal@construtora.com.br
	TLS                string // TLSStartTLS, TLSImplicit or TLSNone
}

// ParseURL reads smtp://[user:password@]host[:port]?from=address[&tls=starttls|implicit|none]
// (smtps:// for implicit TLS). The port defaults to 587 (smtp) or 465
// (smtps). A password is refused over tls=none unless the host is a
// loopback address: it would cross the network in clear.
func ParseURL(s string) (*Config, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("not a URL (smtp://user:password@host:587?from=portal@example.com)")
	}
	c := &Config{Host: u.Hostname(), TLS: TLSStartTLS, Port: 587}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		c.TLS, c.Port = TLSImplicit, 465
	default:
		return nil, fmt.Errorf("scheme %q: use smtp:// or smtps://", u.Scheme)
	}
	if c.Host == "" || u.Path != "" && u.Path != "/" || u.Fragment != "" {
		return nil, errors.New("want smtp://host:port?from=address, with no path")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %q is not a number from 1 to 65535", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	if t := q.Get("tls"); t != "" {
		switch t {
		case TLSStartTLS, TLSImplicit, TLSNone:
			c.TLS = t
		default:
			return nil, fmt.Errorf("tls=%q: use starttls, implicit or none", t)
		}
	}
	from, err := mail.ParseAddress(q.Get("from"))
	if err != nil || from.Name != "" || strings.ContainsAny(from.Address, "\r\n") {
		return nil, errors.New("from= must be the sender's bare e-mail address")
	}
	c.From = from.Address
	if c.TLS == TLSNone && c.Password != "" {
		if ip := net.ParseIP(c.Host); c.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, errors.New("a password over tls=none is only allowed to a relay on this machine (localhost)")
		}
	}
	return c, nil
}

// Message is one plain-text e-mail.
type Message struct {
	To, Subject, Text string
}

// Sender sends Messages with one Config.
type Sender struct {
	cfg Config
}

// New returns a Sender for cfg.
func New(cfg Config) *Sender { return &Sender{cfg: cfg} }

// SendTimeout bounds one delivery, connection included.
const SendTimeout = 20 * time.Second

// Send delivers m, or returns why it could not.
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(SendTimeout)}
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send mail to %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}
