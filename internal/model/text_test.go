package model

import "testing"

func TestCheckField(t *testing.T) {
	for _, tc := range []struct {
		in, want, code string
		required       bool
	}{
		{"  Ana  ", "Ana", "", true},
		{"", "", "required", true},
		{"   ", "", "", false},
		{"Ana\x00", "Ana\x00", "invalid_text", true},
		{"ñññññ", "ñññññ", "", true},
		{"ññññññ", "ññññññ", "too_long", true},
	} {
		v := &ValidationError{}
		got := CheckField(v, "name", tc.in, 5, tc.required, false)
		code := ""
		if len(v.Fields) > 0 {
			code = v.Fields[0].Code
		}
		if got != tc.want || code != tc.code || len(v.Fields) > 1 {
			t.Errorf("CheckField(%q) = %q %v, want %q %q", tc.in, got, v.Fields, tc.want, tc.code)
		}
	}
}
