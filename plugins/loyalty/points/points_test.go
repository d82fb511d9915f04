package points

import (
	"errors"
	"testing"
	"time"
)

func TestForPurchase(t *testing.T) {
	for _, tc := range []struct {
		s      Settings
		amount int64
		want   int64
		err    bool
	}{
		{Defaults, 12345, 12, false}, // R$ 123,45 at R$ 10 a point, down
		{Defaults, 999, 0, false},    // not a whole point
		{Settings{CentsPerPoint: 1000, Rounding: RoundNearest}, 12500, 13, false},
		{Settings{CentsPerPoint: 1000, Rounding: RoundNearest}, 12499, 12, false},
		{Settings{CentsPerPoint: 1000, Rounding: RoundUp}, 12001, 13, false},
		{Settings{CentsPerPoint: 1000, Rounding: RoundUp}, 12000, 12, false},
		{Settings{CentsPerPoint: 1, Rounding: RoundDown}, MaxPoints, MaxPoints, false},
		// A purchase that would earn more than one movement may carry.
		{Settings{CentsPerPoint: 1, Rounding: RoundDown}, MaxPoints + 1, 0, true},
		{Settings{CentsPerPoint: 1, Rounding: RoundDown}, MaxAmountCents, 0, true},
		{Settings{CentsPerPoint: 3, Rounding: RoundUp}, 3*MaxPoints - 1, MaxPoints, false},
		{Settings{CentsPerPoint: 3, Rounding: RoundUp}, 3*MaxPoints + 1, 0, true},
		{Settings{CentsPerPoint: 1000, Rounding: RoundDown, MinPurchaseCents: 5000}, 4999, 0, true},
		{Defaults, 0, 0, true},
		{Defaults, -100, 0, true},
		{Defaults, MaxAmountCents + 1, 0, true},
	} {
		got, err := tc.s.ForPurchase(tc.amount)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%+v.ForPurchase(%d) = %d, %v; want %d (error %v)", tc.s, tc.amount, got, err, tc.want, tc.err)
		}
	}
	if _, err := (Settings{CentsPerPoint: 100, Rounding: RoundDown, MinPurchaseCents: 500}).ForPurchase(499); !errors.Is(err, ErrBelowMinimum) {
		t.Errorf("below the minimum: %v", err)
	}
}

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"123,45", 12345, true},
		{"R$ 1.234,56", 123456, true},
		{"10", 1000, true},
		{"10,5", 1050, true},
		{" 0,01 ", 1, true},
		{"", 0, false},
		{"0", 0, false},
		{"12,345", 0, false},
		{"12,", 0, false},
		{"-5", 0, false},
		{"1e3", 0, false},
		{"123.45", 0, false}, // the English way: refused, not R$ 12.345,00
		{"1.234", 123400, true},
		{"1.234.567,89", 123456789, true},
		{"1234.567", 0, false},
		{".123", 0, false},
		{"99999999999", 0, false},
	} {
		got, err := ParseAmount(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestFormatCents(t *testing.T) {
	for in, want := range map[int64]string{0: "R$ 0,00", 12345: "R$ 123,45", 123456789: "R$ 1.234.567,89", -50: "-R$ 0,50"} {
		if got := FormatCents(in); got != want {
			t.Errorf("FormatCents(%d) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"123,45", "R$ 1.234,56", "1,", ",5", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseAmount(s)
		if err != nil {
			return
		}
		if c <= 0 || c > MaxAmountCents {
			t.Fatalf("ParseAmount(%q) = %d", s, c)
		}
		if again, err := ParseAmount(FormatCents(c)); err != nil || again != c {
			t.Fatalf("round trip %q -> %d -> %q -> %d, %v", s, c, FormatCents(c), again, err)
		}
	})
}

func TestExpiresAt(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	if got := Defaults.ExpiresAt(now); got != nil {
		t.Errorf("points that never expire got %v", got)
	}
	got := Settings{ExpiryDays: 30}.ExpiresAt(now)
	if got == nil || !got.Equal(now.AddDate(0, 0, 30)) {
		t.Errorf("30 days: %v", got)
	}
}
