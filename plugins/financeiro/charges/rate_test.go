package charges

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Rate
	}{
		{"2", 2 * Percent},
		{"2%", 2 * Percent},
		{" 2,5 % ", 25_000},
		{"1.00", Percent},
		{"0,0333", 333},
		{".5", 5000},
		{"0", 0},
		{"100", Unit},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "%", "-1", "1,2,3", "1.2.3", "2,", "abc", "1e2", "0,00001", "100,01", "1000", "1.000,00", strings.Repeat("1", 40)} {
		if _, err := ParseRate(in); !errors.Is(err, ErrRate) {
			t.Errorf("ParseRate(%q) error %v, want ErrRate", in, err)
		}
	}
}

func TestRateFormat(t *testing.T) {
	tests := []struct {
		r          Rate
		pt, en, es string
	}{
		{2 * Percent, "2%", "2%", "2%"},
		{25_000, "2,5%", "2.5%", "2,5%"},
		{333, "0,0333%", "0.0333%", "0,0333%"},
		{0, "0%", "0%", "0%"},
		{-Percent, "-1%", "-1%", "-1%"},
	}
	for _, tt := range tests {
		if got := tt.r.Format("pt-BR"); got != tt.pt {
			t.Errorf("Format(%d, pt-BR) = %q, want %q", tt.r, got, tt.pt)
		}
		if got := tt.r.Format("en"); got != tt.en || tt.r.String() != tt.en {
			t.Errorf("Format(%d, en) = %q, String %q; want %q", tt.r, got, tt.r.String(), tt.en)
		}
		if got := tt.r.Format("es"); got != tt.es {
			t.Errorf("Format(%d, es) = %q, want %q", tt.r, got, tt.es)
		}
	}
}

func TestFormatBRL(t *testing.T) {
	tests := []struct {
		cents  int64
		locale string
		want   string
	}{
		{123456, "pt-BR", "R$ 1.234,56"},
		{123456, "es", "R$ 1.234,56"},
		{123456, "en", "R$1,234.56"},
		{0, "pt-BR", "R$ 0,00"},
		{5, "pt-BR", "R$ 0,05"},
		{100_000_000, "pt-BR", "R$ 1.000.000,00"},
		{99_999, "en", "R$999.99"},
		{-100, "pt-BR", "-R$ 1,00"},
		{9_999_999_999, "pt-BR", "R$ 99.999.999,99"},
		{math.MinInt64, "en", "-R$92,233,720,368,547,758.08"},
	}
	for _, tt := range tests {
		if got := FormatBRL(tt.cents, tt.locale); got != tt.want {
			t.Errorf("FormatBRL(%d, %s) = %q, want %q", tt.cents, tt.locale, got, tt.want)
		}
	}
}

// FuzzParseRate: whatever ParseRate accepts is a rate from 0 to 100 % that
// its own formats read back unchanged.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"2", "2,5 %", "0.0333", "100", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseRate(in)
		if err != nil {
			if !errors.Is(err, ErrRate) {
				t.Fatalf("ParseRate(%q): %v", in, err)
			}
			return
		}
		if r < 0 || r > Unit {
			t.Fatalf("ParseRate(%q) = %d, out of range", in, r)
		}
		for _, loc := range []string{"pt-BR", "en"} {
			if back, err := ParseRate(r.Format(loc)); err != nil || back != r {
				t.Fatalf("ParseRate(%q) = %d, %v; want %d", r.Format(loc), back, err, r)
			}
		}
	})
}
