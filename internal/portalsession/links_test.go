package portalsession

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignedLinks(t *testing.T) {
	key := LinkKey([]byte("0123456789abcdef0123456789abcdef"), "tenant-1")
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	exp := now.Add(24 * time.Hour)
	link, err := BuildLink(key, "https://www.construtora.com.br/minha-conta?aba=1", "customer_invoices", exp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "https://www.construtora.com.br/minha-conta?") || !strings.Contains(link, "aba=1") {
		t.Fatalf("link %s", link)
	}
	fwd, at, err := VerifyLink(key, link, now)
	if err != nil || fwd != "customer_invoices" || !at.Equal(exp.Truncate(time.Second)) {
		t.Fatalf("VerifyLink = %q %v %v", fwd, at, err)
	}
	u, _ := url.Parse(link)
	if _, _, err := VerifyLink(key, u.RawQuery, now); err != nil {
		t.Errorf("the query string alone: %v", err)
	}
	tamper := func(f func(q url.Values)) string {
		q := u.Query()
		f(q)
		return "https://www.construtora.com.br/minha-conta?" + q.Encode()
	}
	for _, tc := range []struct {
		name string
		raw  string
		want error
	}{
		{"another forward", tamper(func(q url.Values) { q.Set(LinkForwardParam, "customer_profile") }), ErrLinkInvalid},
		{"a later expiry", tamper(func(q url.Values) { q.Set(LinkExpiryParam, "99999999999") }), ErrLinkInvalid},
		{"no signature", tamper(func(q url.Values) { q.Del(LinkSigParam) }), ErrLinkInvalid},
		{"two forwards", tamper(func(q url.Values) { q.Add(LinkForwardParam, "customer_profile") }), ErrLinkInvalid},
		{"signature of another tenant", mustBuild(t, LinkKey([]byte("0123456789abcdef0123456789abcdef"), "tenant-2"), exp), ErrLinkInvalid},
		{"signature under another server key", mustBuild(t, LinkKey([]byte("another secret key of 32 bytes!!"), "tenant-1"), exp), ErrLinkInvalid},
		{"expired", mustBuild(t, key, now.Add(-time.Second)), ErrLinkExpired},
		{"garbage", "%zz", ErrLinkInvalid},
		{"empty", "", ErrLinkInvalid},
	} {
		if _, _, err := VerifyLink(key, tc.raw, now); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// A link signed for a forward value Portico would refuse is refused.
	bad := "x?" + LinkForwardParam + "=javascript:alert(1)&" + LinkExpiryParam + "=99999999999&" + LinkSigParam + "=" + SignLink(key, "javascript:alert(1)", 99999999999)
	if _, _, err := VerifyLink(key, bad, now); !errors.Is(err, ErrLinkInvalid) {
		t.Errorf("a signed unknown forward: %v", err)
	}
}

func mustBuild(t *testing.T, key []byte, exp time.Time) string {
	t.Helper()
	l, err := BuildLink(key, "https://www.construtora.com.br/", "customer_invoices", exp)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// FuzzVerifyLink: no input panics, and whatever passes carries a forward
// value Portico accepts and the signature of exactly that value.
func FuzzVerifyLink(f *testing.F) {
	key := LinkKey([]byte("k"), "t")
	f.Add("portico_forward=&portico_exp=1&portico_sig=x")
	f.Add(mustBuildF(key))
	f.Fuzz(func(t *testing.T, raw string) {
		fwd, at, err := VerifyLink(key, raw, time.Unix(0, 0))
		if err != nil {
			return
		}
		if SignLink(key, fwd, at.Unix()) == "" {
			t.Fatalf("passed without a signature: %q", raw)
		}
		if !strings.Contains(raw, SignLink(key, fwd, at.Unix())) {
			t.Fatalf("%q passed without carrying the signature of %q", raw, fwd)
		}
	})
}

func mustBuildF(key []byte) string {
	l, _ := BuildLink(key, "https://a.example/", "plugin:financeiro", time.Unix(4102444800, 0))
	return l
}
