package charges

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWindowCheck(t *testing.T) {
	today := day(2026, 12, 3) // a Thursday
	w := Window{MaxDays: 30, BusinessDaysOnly: true}
	tests := []struct {
		due    time.Time
		reason string // "" when accepted
	}{
		{day(2026, 12, 3), ""},             // today
		{day(2026, 12, 4), ""},             // Friday
		{day(2026, 12, 30), ""},            // Wednesday
		{day(2026, 12, 2), ReasonPast},     // yesterday
		{day(2027, 1, 4), ""},              // Monday: 30 days ahead is a Saturday, so the window ends here
		{day(2027, 1, 5), ReasonTooFar},    // after it
		{day(2026, 12, 5), ReasonWeekend},  // Saturday
		{day(2026, 12, 25), ReasonHoliday}, // Natal
		{day(2026, 12, 31), ReasonHoliday}, // no banking on 31 December
	}
	for _, tt := range tests {
		err := w.Check(today, tt.due)
		var de *DueDateError
		switch {
		case tt.reason == "" && err != nil:
			t.Errorf("%s refused: %v", tt.due.Format(time.DateOnly), err)
		case tt.reason != "" && (!errors.As(err, &de) || de.Reason != tt.reason):
			t.Errorf("%s: error %v, want reason %s", tt.due.Format(time.DateOnly), err, tt.reason)
		}
	}
	// Without BusinessDaysOnly weekends and holidays are fine.
	calendarDays := Window{MaxDays: 30}
	for _, d := range []time.Time{day(2026, 12, 5), day(2026, 12, 25), day(2027, 1, 2)} {
		if err := calendarDays.Check(today, d); err != nil {
			t.Errorf("calendar days: %s refused: %v", d.Format(time.DateOnly), err)
		}
	}
	// Today is the tenant's date: 23:30 in São Paulo on the 3rd is the 3rd.
	sp := time.FixedZone("BRT", -3*3600)
	if err := w.Check(time.Date(2026, 12, 3, 23, 30, 0, 0, sp), day(2026, 12, 3)); err != nil {
		t.Errorf("same date in another zone refused: %v", err)
	}
}

func TestDueDateErrorMessages(t *testing.T) {
	w := Window{MaxDays: 30, BusinessDaysOnly: true}
	today := day(2026, 12, 3)
	tests := []struct {
		due    time.Time
		locale string
		want   []string
	}{
		{day(2026, 12, 1), "pt-BR", []string{"01/12/2026", "já passou", "03/12/2026", "04/01/2027"}},
		{day(2026, 12, 1), "es", []string{"01/12/2026", "ya pasó"}},
		{day(2026, 12, 1), "en", []string{"Dec 1, 2026", "in the past", "Jan 4, 2027"}},
		{day(2027, 1, 20), "pt-BR", []string{"longe demais", "04/01/2027"}},
		{day(2027, 1, 20), "en", []string{"too far"}},
		{day(2026, 12, 5), "pt-BR", []string{"fim de semana", "dia útil"}},
		{day(2026, 12, 5), "es", []string{"fin de semana", "día hábil"}},
		{day(2026, 12, 8), "pt-BR", []string{"08/12/2026"}}, // a Tuesday, accepted
		{day(2026, 12, 25), "en", []string{"bank holiday", "Natal"}},
		{day(2026, 12, 25), "fr", []string{"feriado bancário"}}, // unknown locale: Portuguese
	}
	for _, tt := range tests {
		err := w.Check(today, tt.due)
		var de *DueDateError
		if !errors.As(err, &de) {
			if tt.due.Equal(day(2026, 12, 8)) && err == nil {
				continue
			}
			t.Fatalf("%s: error %v", tt.due.Format(time.DateOnly), err)
		}
		msg := de.Message(tt.locale)
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s %s: %q lacks %q", tt.due.Format(time.DateOnly), tt.locale, msg, w)
			}
		}
	}
}

func TestWindowDates(t *testing.T) {
	today := day(2026, 12, 3)
	got := Window{MaxDays: 30, BusinessDaysOnly: true}.Dates(today)
	// 3 Dec to 2 Jan, a Saturday, so to Monday 4 Jan: weekdays except 25
	// and 31 Dec and 1 Jan.
	if len(got) != 20 || !got[0].Equal(today) || !got[len(got)-1].Equal(day(2027, 1, 4)) {
		t.Errorf("%d dates from %v to %v, want 20 from 2026-12-03 to 2027-01-04", len(got), got[0], got[len(got)-1])
	}
	for _, d := range got {
		if err := (Window{MaxDays: 30, BusinessDaysOnly: true}).Check(today, d); err != nil {
			t.Errorf("Dates lists %s, which Check refuses: %v", d.Format(time.DateOnly), err)
		}
	}
	if n := len((Window{MaxDays: 30}).Dates(today)); n != 31 {
		t.Errorf("calendar days: %d dates, want 31", n)
	}
	if (Window{MaxDays: MaxWindowDays + 1}).Dates(today) != nil {
		t.Error("an invalid window lists dates")
	}
}

// TestWindowNeverEmpty: a business-days window short enough to hold only
// weekend days and holidays ends on the next business day instead.
func TestWindowNeverEmpty(t *testing.T) {
	for _, tt := range []struct {
		name    string
		today   time.Time
		maxDays int
		want    []time.Time
	}{
		{"Saturday, one day", day(2026, 12, 5), 1, []time.Time{day(2026, 12, 7)}},
		{"Sunday, today only", day(2026, 12, 6), 0, []time.Time{day(2026, 12, 7)}},
		{"Carnival Saturday, three days", day(2026, 2, 14), 3, []time.Time{day(2026, 2, 18)}},
		{"31 December, three days", day(2026, 12, 31), 3, []time.Time{day(2027, 1, 4)}},
		{"Friday, one day", day(2026, 12, 4), 1, []time.Time{day(2026, 12, 4), day(2026, 12, 7)}},
		{"a business day, today only", day(2026, 12, 3), 0, []time.Time{day(2026, 12, 3)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := Window{MaxDays: tt.maxDays, BusinessDaysOnly: true}
			got := w.Dates(tt.today)
			if !slices.EqualFunc(got, tt.want, time.Time.Equal) {
				t.Fatalf("dates %v, want %v", got, tt.want)
			}
			last := got[len(got)-1]
			if err := w.Check(tt.today, last); err != nil {
				t.Errorf("Check refuses the window's last date: %v", err)
			}
			var de *DueDateError
			if err := w.Check(tt.today, last.AddDate(0, 0, 1)); !errors.As(err, &de) || de.Reason != ReasonTooFar {
				t.Errorf("the day after the last date: %v, want %s", err, ReasonTooFar)
			}
		})
	}
}

func TestWindowValidate(t *testing.T) {
	for _, w := range []Window{{MaxDays: -1}, {MaxDays: MaxWindowDays + 1}} {
		if err := w.Validate(); !errors.Is(err, ErrSettings) {
			t.Errorf("%+v: error %v, want ErrSettings", w, err)
		}
	}
	for _, w := range []Window{{}, {MaxDays: 30, BusinessDaysOnly: true}, {MaxDays: MaxWindowDays}} {
		if err := w.Validate(); err != nil {
			t.Errorf("%+v: %v", w, err)
		}
	}
}
