package launch

import (
	"encoding/json"
	"testing"
)

// TestAppendClaimsIsJSONMarshal holds appendClaims to encoding/json's
// bytes, so minting without reflection changes no token.
func TestAppendClaimsIsJSONMarshal(t *testing.T) {
	tests := []struct {
		name string
		c    Claims
	}{
		{"zero", Claims{}},
		{"a real launch", Claims{Issuer: "https://portal.acme.com.br", Audience: "cli_0198f0c27d41", Subject: "s_3kq7hV9xN2pL5wR8tY1mZ4cB6dF0gJ",
			IssuedAt: 1733330000, NotBefore: 1733330000, Expires: 1733330060, ID: "q1Zk3Vb0mXr8nP2sT5wY7A",
			Portico: PorticoClaims{Tenant: "construtora-exemplo", Plugin: "financeiro", Role: "cliente", Locale: "pt-BR"}}},
		{"escapes and negatives", Claims{Issuer: "http://[::1]:8080/<a>&\"\\\b\f\n\r\t\x00\x1f\x7f", Audience: "ação – ✓ \u2028\u2029",
			Subject: "\xff\xfe bad \xc3", IssuedAt: -1, NotBefore: -9223372036854775808, Expires: 9223372036854775807,
			Portico: PorticoClaims{Tenant: "'", Plugin: "/", Role: "\U0001F600", Locale: "\xed\xa0\x80"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(&tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendClaims(nil, &tt.c); string(got) != string(want) {
				t.Errorf("appendClaims =\n%s\nwant json.Marshal's\n%s", got, want)
			}
		})
	}
}

// FuzzAppendJSONString compares appendJSONString with encoding/json on any
// string, valid UTF-8 or not.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "<>&", "\u2028\u2029", "\x00\x1f\x7f", "\xff", "\xe2\x80", "ação", "\U0001F600"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got[1:], want)
		}
	})
}
