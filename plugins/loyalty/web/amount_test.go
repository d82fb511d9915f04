package web_test

import (
	"testing"

	"github.com/portico-dev/portico/plugins/loyalty/web"
)

// TestParseAmount: amounts as a Brazilian cashier types them; a dot only
// separates thousands, so "123.45" (the English way) is refused rather
// than read as R$ 12.345,00.
func TestParseAmount(t *testing.T) {
	for in, want := range map[string]int64{
		"123,45": 12345, "R$ 123,45": 12345, "1.234,56": 123456, "10": 1000, "10,5": 1050, "1.000.000": 100000000, " 7,00 ": 700,
		"123.45": -1, "12.3": -1, "1.23,00": -1, "12,345": -1, "abc": -1, "": -1, "-5": -1, "0": -1, "1,": -1, ",50": -1,
	} {
		got, err := web.ParseAmount(in)
		switch {
		case want < 0 && err == nil:
			t.Errorf("%q accepted as %d", in, got)
		case want >= 0 && (err != nil || got != want):
			t.Errorf("%q: %d %v, want %d", in, got, err, want)
		}
	}
}
