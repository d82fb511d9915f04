package ui

import (
	"log/slog"
	"testing"

	"github.com/portico-dev/portico/internal/i18n"
)

// TestModuleSize writes sizes as people read them in each language: KiB
// below a mebibyte (with the language's digit grouping), MiB with one
// decimal from there.
func TestModuleSize(t *testing.T) {
	cat, err := i18n.New(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		locale string
		bytes  int64
		want   string
	}{
		{"pt-BR", 900, "1 KiB"},
		{"pt-BR", 1023 << 10, "1.023 KiB"},
		{"pt-BR", 1<<20 - 1, "1,0 MiB"},
		{"pt-BR", 1 << 20, "1,0 MiB"},
		{"pt-BR", 4361 << 10, "4,3 MiB"},
		{"es", 4361 << 10, "4,3 MiB"},
		{"en", 4361 << 10, "4.3 MiB"},
		{"en", 1023 << 10, "1,023 KiB"},
	} {
		if got := moduleSize(cat.Localizer(tt.locale), tt.bytes); got != tt.want {
			t.Errorf("%s %d bytes: %q, want %q", tt.locale, tt.bytes, got, tt.want)
		}
	}
}
