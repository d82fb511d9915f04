package document

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"529.982.247-25", "52998224725", true},
		{"52998224725", "52998224725", true},
		{"529.982.247-24", "", false}, // wrong check digit
		{"111.111.111-11", "", false}, // repeated digits pass the arithmetic but are invalid
		{"11.222.333/0001-81", "11222333000181", true},
		{"11222333000181", "11222333000181", true},
		{"11.222.333/0001-80", "", false},
		{"00000000000000", "", false},
		{"1234", "", false},
		{"529982247250000000", "", false},
		{"529.982.247-2X", "", false},
		{"", "", false},
		// The alphanumeric CNPJ (IN RFB 2.229/2024), the Receita
		// Federal's own example: letters count as their code minus 48.
		{"12.ABC.345/01DE-35", "12ABC34501DE35", true},
		{"12abc34501de35", "12ABC34501DE35", true},
		{"12.ABC.345/01DE-36", "", false}, // wrong check digit
		{"12.ABC.345/01DE-3A", "", false}, // the check digits are digits
		{"529.982.247-2A", "", false},     // a CPF has digits only
		{"12.ÁBC.345/01DE-35", "", false}, // letters of A to Z only
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"529.982.247-25", "11.222.333/0001-81", "", "0", "99999999999", "12.ABC.345/01DE-35", "12abc34501de35"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Normalize(s)
		if err != nil {
			return
		}
		if len(got) != 11 && len(got) != 14 {
			t.Fatalf("Normalize(%q) = %q: wrong length", s, got)
		}
		if len(got) == 11 && strings.Trim(got, "0123456789") != "" {
			t.Fatalf("Normalize(%q) = %q: a CPF not of digits", s, got)
		}
		if len(got) == 14 && (strings.Trim(got[:12], "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" || strings.Trim(got[12:], "0123456789") != "") {
			t.Fatalf("Normalize(%q) = %q: not a CNPJ's characters", s, got)
		}
		if again, err := Normalize(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

func TestFormat(t *testing.T) {
	for in, want := range map[string]string{
		"52998224725": "529.982.247-25", "11222333000181": "11.222.333/0001-81",
		"12ABC34501DE35": "12.ABC.345/01DE-35", "1234": "1234", "": "",
	} {
		if got := Format(in); got != want {
			t.Errorf("Format(%q) = %q, want %q", in, got, want)
		}
	}
}
