package charges

import (
	"errors"
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// usual is 2 % fine and 1 % a month, the rates most contracts carry.
var usual = Settings{Fine: 2 * Percent, MonthlyInterest: 1 * Percent}

func TestCompute(t *testing.T) {
	tests := []struct {
		name        string
		principal   int64
		orig, newD  time.Time
		s           Settings
		late        bool
		days        int
		fine, inter int64
		total       int64
	}{
		{
			// R$ 1.000,00 due Friday 2026-11-06, paid 2026-12-07: 31 days.
			// fine 100000 × 2 % = 2000; interest 100000 × 1 % × 31/30 =
			// 1033.33… → 1033; total 103033 (R$ 1.030,33).
			"a month late", 100000, day(2026, 11, 6), day(2026, 12, 7), usual,
			true, 31, 2000, 1033, 103033,
		},
		{
			// Due Saturday 2026-12-05: Monday 12-07 is still on time.
			"weekend grace", 100000, day(2026, 12, 5), day(2026, 12, 7), usual,
			false, 0, 0, 0, 100000,
		},
		{
			// Due Saturday 2026-12-05, new date Tuesday 12-08: late, and
			// the days count from the original date (3). R$ 1.234,56:
			// fine 2469.12 → 2469; interest 123456 × 1 % × 3/30 = 123.456 → 123.
			"a day past the grace", 123456, day(2026, 12, 5), day(2026, 12, 8), usual,
			true, 3, 2469, 123, 126048,
		},
		{
			// Due Saturday before Carnaval 2026: the next business day is
			// Ash Wednesday, 02-18.
			"carnaval grace", 50000, day(2026, 2, 14), day(2026, 2, 18), usual,
			false, 0, 0, 0, 50000,
		},
		{
			// Rounding half-up: fine 2 % of 25 cents is 0.5 → 1; interest
			// 25 × 1 % × 60/30 = 0.5 → 1.
			"half a cent rounds up", 25, day(2026, 1, 5), day(2026, 3, 6), usual,
			true, 60, 1, 1, 27,
		},
		{
			// Just under half a cent rounds down: 24 × 2 % = 0.48 → 0;
			// 24 × 1 % × 59/30 = 0.472 → 0.
			"under half a cent rounds down", 24, day(2026, 1, 5), day(2026, 3, 5), usual,
			true, 59, 0, 0, 24,
		},
		{
			// Selic minus IPCA as the legal rate, e.g. 0,4567 % a month,
			// no fine: 100000 × 0.4567 % × 45/30 = 685.05 → 685.
			"legal rate, no fine", 100000, day(2026, 10, 19), day(2026, 12, 3), Settings{MonthlyInterest: 4567},
			true, 45, 0, 685, 100685,
		},
		{
			"earlier than the original date", 100000, day(2026, 12, 20), day(2026, 12, 10), usual,
			false, 0, 0, 0, 100000,
		},
		{
			"zero rates", 100000, day(2026, 11, 6), day(2026, 12, 7), Settings{},
			true, 31, 0, 0, 100000,
		},
		{
			// Ten years late on R$ 5 million (3651 days): fine 10 000 000;
			// interest 500 000 000 × 1 % × 3651/30 = 608 500 000.
			"ten years late", 500_000_000, day(2016, 12, 5), day(2026, 12, 4), usual,
			true, 3651, 10_000_000, 608_500_000, 1_118_500_000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Compute(tt.principal, tt.orig, tt.newD, tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if b.Late != tt.late || b.Days != tt.days || b.Fine != tt.fine || b.Interest != tt.inter || b.Total != tt.total {
				t.Errorf("late %v days %d fine %d interest %d total %d; want %v %d %d %d %d",
					b.Late, b.Days, b.Fine, b.Interest, b.Total, tt.late, tt.days, tt.fine, tt.inter, tt.total)
			}
			if b.Total != b.Principal+b.Fine+b.Interest {
				t.Errorf("total %d is not the sum of its parts", b.Total)
			}
		})
	}
}

func TestComputeRejects(t *testing.T) {
	tests := []struct {
		name      string
		principal int64
		s         Settings
		want      error
	}{
		{"fine above the CDC cap", 100, Settings{Fine: MaxFine + 1}, ErrSettings},
		{"negative fine", 100, Settings{Fine: -1}, ErrSettings},
		{"interest above the guard", 100, Settings{MonthlyInterest: MaxMonthlyInterest + 1}, ErrSettings},
		{"negative interest", 100, Settings{MonthlyInterest: -1}, ErrSettings},
		{"no principal", 0, usual, ErrAmount},
		{"negative principal", -100, usual, ErrAmount},
		{"principal beyond a boleto", 10_000_000_000, usual, ErrAmount},
		// R$ 90 million, 10 % a month for ten years: the total does not fit
		// a boleto's ten digits.
		{"total beyond a boleto", 9_000_000_000, Settings{MonthlyInterest: MaxMonthlyInterest}, ErrAmount},
	}
	for _, tt := range tests {
		if _, err := Compute(tt.principal, day(2016, 1, 4), day(2026, 1, 5), tt.s); !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := Compute(100, day(1900, 1, 1), day(2026, 1, 5), Settings{}); !errors.Is(err, ErrAmount) {
		t.Errorf("126 years late: error %v, want ErrAmount", err)
	}
	if err := (Settings{Fine: MaxFine, MonthlyInterest: MaxMonthlyInterest}).Validate(); err != nil {
		t.Errorf("the limits themselves are refused: %v", err)
	}
}

func TestMulDivHalfUp(t *testing.T) {
	tests := []struct {
		a, b, c uint64
		want    int64
	}{
		{1, 1, 2, 1},              // 0.5 → 1
		{1, 1, 3, 0},              // 0.33 → 0
		{2, 1, 3, 1},              // 0.67 → 1
		{5, 1, 2, 3},              // 2.5 → 3
		{1 << 62, 8, 1 << 61, 16}, // 128-bit product
	}
	for _, tt := range tests {
		if got := mulDivHalfUp(tt.a, tt.b, tt.c); got != tt.want {
			t.Errorf("mulDivHalfUp(%d, %d, %d) = %d, want %d", tt.a, tt.b, tt.c, got, tt.want)
		}
	}
}

func FuzzCompute(f *testing.F) {
	f.Add(int64(100000), 30, int64(20000), int64(10000))
	f.Fuzz(func(t *testing.T, principal int64, days int, fine, interest int64) {
		if days < -1_000_000 || days > 1_000_000 {
			return
		}
		s := Settings{Fine: Rate(fine), MonthlyInterest: Rate(interest)}
		orig := day(2026, 1, 5) // a Monday, a business day
		b, err := Compute(principal, orig, orig.AddDate(0, 0, days), s)
		if err != nil {
			if !errors.Is(err, ErrAmount) && !errors.Is(err, ErrSettings) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if b.Total != b.Principal+b.Fine+b.Interest || b.Fine < 0 || b.Interest < 0 {
			t.Fatalf("inconsistent breakdown %+v", b)
		}
		// The fine never exceeds 2 % of the principal, rounded half-up.
		if 100*b.Fine > 2*b.Principal+50 {
			t.Fatalf("fine %d above 2 %% of %d", b.Fine, b.Principal)
		}
		if !b.Late && (b.Fine != 0 || b.Interest != 0) {
			t.Fatalf("charges while not late: %+v", b)
		}
	})
}
