package calendar

import (
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestEaster(t *testing.T) {
	tests := []struct {
		year int
		want time.Time
	}{
		{2019, day(2019, 4, 21)},
		{2024, day(2024, 3, 31)},
		{2025, day(2025, 4, 20)},
		{2026, day(2026, 4, 5)},
		{2027, day(2027, 3, 28)},
		{2038, day(2038, 4, 25)}, // latest possible date
		{2285, day(2285, 3, 22)}, // earliest possible date
	}
	for _, tt := range tests {
		if got := Easter(tt.year); !got.Equal(tt.want) {
			t.Errorf("Easter(%d) = %s, want %s", tt.year, got.Format(time.DateOnly), tt.want.Format(time.DateOnly))
		}
	}
}

func TestHolidays2026(t *testing.T) {
	// 2026: Easter on 5 April, so Carnaval on 16–17 February, Good Friday
	// on 3 April, Corpus Christi on 4 June.
	want := []string{
		"2026-01-01", "2026-02-16", "2026-02-17", "2026-04-03", "2026-04-21", "2026-05-01",
		"2026-06-04", "2026-09-07", "2026-10-12", "2026-11-02", "2026-11-15", "2026-11-20",
		"2026-12-25", "2026-12-31",
	}
	got := Holidays(2026)
	if len(got) != len(want) {
		t.Fatalf("%d holidays, want %d: %v", len(got), len(want), got)
	}
	for i, h := range got {
		if h.Date.Format(time.DateOnly) != want[i] || h.Name == "" {
			t.Errorf("holiday %d = %s %q, want %s", i, h.Date.Format(time.DateOnly), h.Name, want[i])
		}
	}
}

func TestConscienciaNegraFrom2024(t *testing.T) {
	if HolidayName(day(2023, 11, 20)) != "" {
		t.Error("20 November 2023 is a holiday, but it became national only in 2024")
	}
	if HolidayName(day(2024, 11, 20)) == "" {
		t.Error("20 November 2024 is not a holiday")
	}
}

func TestBusinessDays(t *testing.T) {
	tests := []struct {
		d    time.Time
		want bool
		next time.Time
	}{
		{day(2026, 12, 3), true, day(2026, 12, 3)},    // Thursday
		{day(2026, 12, 5), false, day(2026, 12, 7)},   // Saturday → Monday
		{day(2026, 2, 14), false, day(2026, 2, 18)},   // Saturday before Carnaval → Ash Wednesday
		{day(2026, 2, 18), true, day(2026, 2, 18)},    // Ash Wednesday: banks open at noon
		{day(2026, 4, 3), false, day(2026, 4, 6)},     // Good Friday
		{day(2026, 6, 4), false, day(2026, 6, 5)},     // Corpus Christi
		{day(2026, 11, 20), false, day(2026, 11, 23)}, // Friday, Consciência Negra
		{day(2026, 12, 31), false, day(2027, 1, 4)},   // 31 Dec, 1 Jan, weekend
		{day(2026, 12, 24), true, day(2026, 12, 24)},  // Christmas Eve works
	}
	for _, tt := range tests {
		if got := IsBusinessDay(tt.d); got != tt.want {
			t.Errorf("IsBusinessDay(%s) = %v, want %v", tt.d.Format(time.DateOnly), got, tt.want)
		}
		if got := NextBusinessDay(tt.d); !got.Equal(tt.next) {
			t.Errorf("NextBusinessDay(%s) = %s, want %s", tt.d.Format(time.DateOnly), got.Format(time.DateOnly), tt.next.Format(time.DateOnly))
		}
	}
	// A time late in the evening in São Paulo is still that date.
	sp := time.FixedZone("BRT", -3*3600)
	if IsBusinessDay(time.Date(2026, 12, 4, 23, 0, 0, 0, sp)) != true {
		t.Error("Friday 23:00 -03:00 is not a business day")
	}
}

func TestDaysBetween(t *testing.T) {
	if got := DaysBetween(day(2026, 2, 20), day(2026, 3, 2)); got != 10 {
		t.Errorf("DaysBetween = %d, want 10", got)
	}
	if got := DaysBetween(day(2024, 2, 28), day(2024, 3, 1)); got != 2 { // leap year
		t.Errorf("DaysBetween over 29 Feb = %d, want 2", got)
	}
	if got := DaysBetween(day(2026, 3, 2), day(2026, 2, 20)); got != -10 {
		t.Errorf("DaysBetween backwards = %d, want -10", got)
	}
}

// HolidayName (which allocates nothing) and Holidays agree on every day of
// a century, coincidences included (Good Friday 2000 was Tiradentes).
func TestHolidayNameAgreesWithHolidays(t *testing.T) {
	for y := 2000; y <= 2100; y++ {
		want := map[time.Time]bool{}
		for _, h := range Holidays(y) {
			want[h.Date] = true
		}
		for d := day(y, 1, 1); d.Year() == y; d = d.AddDate(0, 0, 1) {
			if got := HolidayName(d) != ""; got != want[d] {
				t.Fatalf("%s: HolidayName says %v, Holidays says %v", d.Format(time.DateOnly), got, want[d])
			}
		}
	}
	if HolidayName(day(2000, 4, 21)) == "" {
		t.Error("2000-04-21 (Tiradentes and Good Friday) is not a holiday")
	}
}
