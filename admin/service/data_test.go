package service_test

import (
	"strings"
	"testing"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/internal/storage"
)

// TestKeyToken: every key a plugin may write survives the trip through a
// token, and only the tokens KeyToken writes of valid keys are accepted:
// not another alphabet, padding, stray bits, an empty or over-long token,
// or the token of something that is not a key.
func TestKeyToken(t *testing.T) {
	for _, k := range []string{"a", "a/b", "100%", " x ", "tab\tline\nbreak\r", "\x01", "..", "日本語", "\u202e",
		strings.Repeat("k", storage.KVMaxKey), strings.Repeat("é", storage.KVMaxKey/2)} {
		tok := service.KeyToken(k)
		if strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Errorf("token of %q has characters a URL or a form could change: %q", k, tok)
		}
		if got, ok := service.KeyFromToken(tok); !ok || got != k {
			t.Errorf("token of %q reads back as %q, %v", k, got, ok)
		}
	}
	for _, tok := range []string{
		"",                           // no key
		"YQ==",                       // padded
		"YR",                         // stray bits: not what KeyToken writes of "a"
		"Y+8",                        // standard alphabet
		"a b",                        // not base64
		service.KeyToken(""),         // empty key
		service.KeyToken("a\x00b"),   // NUL
		service.KeyToken("\xff\xfe"), // not UTF-8
		service.KeyToken(strings.Repeat("k", storage.KVMaxKey+1)), // too long
	} {
		if k, ok := service.KeyFromToken(tok); ok {
			t.Errorf("token %q accepted as %q", tok, k)
		}
	}
}

// FuzzKeyFromToken: whatever a URL or a form carries, KeyFromToken either
// refuses it or returns a valid key whose token is exactly what was
// given (one token per key, so a cursor cannot name a key two ways), and
// every valid key comes back from its token.
func FuzzKeyFromToken(f *testing.F) {
	for _, s := range []string{"", "YQ", "YQ==", "YR", "Y+8", "4pyT", "AA", "_-_-", strings.Repeat("a", 342), strings.Repeat("a", 343)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if k, ok := service.KeyFromToken(tok); ok {
			if !storage.ValidKVKey(k) {
				t.Fatalf("token %q gave the invalid key %q", tok, k)
			}
			if again := service.KeyToken(k); again != tok {
				t.Fatalf("token %q gave %q, whose token is %q", tok, k, again)
			}
		}
		// Read as a key: a valid one round-trips.
		if storage.ValidKVKey(tok) {
			if k, ok := service.KeyFromToken(service.KeyToken(tok)); !ok || k != tok {
				t.Fatalf("key %q came back from its token as %q, %v", tok, k, ok)
			}
		}
	})
}
