package web

import (
	"errors"
	"strings"
	"testing"
)

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func TestDecodeJSONBody(t *testing.T) {
	tests := []struct {
		body string
		code string // "" means accepted
	}{
		{`{"email":"a@b.co","password":"x"}`, ""},
		{`  {"email":"a@b.co"}  `, ""},
		{`{"email":`, "invalid_json"},
		{`{"email":"a"} {"email":"b"}`, "invalid_json"},
		{`[1,2]`, "invalid_json"},
		{`{"email":5}`, "invalid_json"},
		{`{"email":"a","role":"gestor"}`, "unknown_field"},
		{``, "invalid_json"},
		{`null`, "invalid_json"}, // decodes into nothing: not an object
		{` null `, "invalid_json"},
		{`"x"`, "invalid_json"},
		{`5`, "invalid_json"},
		{`{"email":"` + strings.Repeat("a", MaxJSONBody) + `"}`, "body_too_large"},
	}
	for _, tt := range tests {
		var dst loginBody
		err := decodeJSONBody([]byte(tt.body), &dst)
		var p *Problem
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("%.40q: unexpected error %v", tt.body, err)
		case tt.code != "" && (!errors.As(err, &p) || p.Code != tt.code):
			t.Errorf("%.40q: got %v, want %s", tt.body, err, tt.code)
		}
	}
}

// FuzzDecodeJSONBody checks that any body either decodes or yields a 4xx
// Problem, never a panic or a 5xx.
func FuzzDecodeJSONBody(f *testing.F) {
	for _, s := range []string{`{"email":"a@b.co","password":"x"}`, `{"x":1}`, `{`, `null`, `{"email":"\u0000"}`, `{"email":1e999}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst loginBody
		err := decodeJSONBody(body, &dst)
		if err == nil {
			return
		}
		var p *Problem
		if !errors.As(err, &p) || p.Status < 400 || p.Status >= 500 {
			t.Fatalf("body %q: error %v is not a 4xx Problem", body, err)
		}
		for field := range p.Fields {
			if len(field) > 64 {
				t.Fatalf("field name echoed unbounded: %d bytes", len(field))
			}
		}
	})
}
