package abi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckForm(t *testing.T) {
	big := strings.Repeat("x", MaxFormValue)
	many := func(n int) map[string][]string {
		m := map[string][]string{}
		for i := 0; i < n; i++ {
			m["f"+strings.Repeat("x", i)] = []string{"v"}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		form map[string][]string
		want string // a part of the error; "" when the form passes
	}{
		{"nil", nil, ""},
		{"simple", map[string][]string{"nome": {"Ana"}}, ""},
		{"reserved", map[string][]string{"_csrf": {"t"}}, `field name "_csrf" is not a safe name (names starting with '_' are the portal's)`},
		{"bad name", map[string][]string{"bad name": {"t"}}, `field name "bad name" is not a safe name`},
		{"empty name", map[string][]string{"": {"t"}}, `field name "" is not a safe name`},
		{"name too long", map[string][]string{"a" + strings.Repeat("b", MaxName): {"t"}}, "is not a safe name"},
		{"value at limit", map[string][]string{"a": {big}}, ""},
		{"value above limit", map[string][]string{"a": {big + "x"}}, "form.a: a value of 4001 bytes, at most 4000"},
		{"invalid utf-8", map[string][]string{"a": {"\xff"}}, "form.a: a value is not valid UTF-8"},
		{"nul", map[string][]string{"a": {"a\x00"}}, "form.a: a value holds a NUL byte"},
		{"keys at limit", many(MaxFormKeys), ""},
		{"keys above limit", many(MaxFormKeys + 1), "51 fields, at most 50"},
		{"values at limit", map[string][]string{"a": make([]string, MaxFormValues)}, ""},
		{"values above limit", map[string][]string{"a": make([]string, MaxFormValues+1)}, "more than 100 values"},
		{"bytes above limit", map[string][]string{"a": {big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big}}, "more than 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := CheckForm(tc.form)
			if tc.want == "" {
				if err != nil || out == nil || len(out) != len(tc.form) {
					t.Fatalf("CheckForm = %v, %v; want a copy", out, err)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckForm error %v, want an *InputError containing %q", err, tc.want)
			}
		})
	}
}

// TestCheckFormCopies: the form passed on is a copy, so what the caller
// changes afterwards never reaches the plugin.
func TestCheckFormCopies(t *testing.T) {
	in := map[string][]string{"a": {"1", "2"}}
	out, err := CheckForm(in)
	if err != nil {
		t.Fatal(err)
	}
	in["a"][0] = "changed"
	if out["a"][0] != "1" {
		t.Fatalf("the checked form shares its values with the input: %q", out["a"])
	}
}

func TestCheckAction(t *testing.T) {
	for _, tc := range []struct {
		action string
		form   map[string][]string
		want   string
	}{
		{"greet", map[string][]string{"name": {"Ana"}}, ""},
		{"greet", nil, ""},
		{"../x", nil, `invalid input: action: "../x" is not a safe name`},
		{"", nil, `invalid input: action: "" is not a safe name`},
		{"_csrf", nil, "action"},
		{"greet", map[string][]string{"a b": {"x"}}, `invalid input: form: field name "a b"`},
	} {
		_, err := CheckAction(tc.action, tc.form)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckAction(%q, %v) = %v", tc.action, tc.form, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckAction(%q, %v) = %v, want an error containing %q", tc.action, tc.form, err, tc.want)
		}
	}
}

// TestRemovePageFields: the page's CSRF token is removed before the check,
// any other field (and any other '_' name) is left for CheckForm.
func TestRemovePageFields(t *testing.T) {
	form := map[string][]string{CSRFField: {"tok"}, "nome": {"Ana"}, "_other": {"x"}}
	RemovePageFields(form)
	if _, ok := form[CSRFField]; ok || len(form) != 2 {
		t.Fatalf("after RemovePageFields: %v", form)
	}
	if _, err := CheckForm(form); err == nil {
		t.Fatal("a '_' field other than the page's passed the check")
	}
	delete(form, "_other")
	if _, err := CheckForm(form); err != nil {
		t.Fatal(err)
	}
}

func FuzzCheckForm(f *testing.F) {
	f.Add([]byte(`{"nome":["Ana"],"_csrf":["x"]}`))
	f.Add([]byte(`{"a":["\u0000"],"b.c-d_e":["ok",""]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string][]string
		if json.Unmarshal(data, &m) != nil {
			return
		}
		out, err := CheckForm(m)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if len(out) > MaxFormKeys {
			t.Fatalf("%d keys kept", len(out))
		}
		values, total := 0, 0
		for k, vs := range out {
			if !ValidName(k) {
				t.Fatalf("unsafe name kept: %q", k)
			}
			values += len(vs)
			for _, v := range vs {
				total += len(k) + len(v)
				if len(v) > MaxFormValue || strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) {
					t.Fatalf("value kept: %q", v)
				}
			}
		}
		if values > MaxFormValues || total > MaxFormBytes {
			t.Fatalf("%d values, %d bytes kept", values, total)
		}
	})
}
