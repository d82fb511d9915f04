package model

import (
	"testing"
	"time"
)

func TestValidTimeZone(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"America/Sao_Paulo", true},
		{"America/Argentina/Buenos_Aires", true},
		{"UTC", true},
		{"", false},
		{"Local", false}, // the server's zone, different on every machine
		{"Marte/Olimpo", false},
		{"america/sao_paulo", false},
		{"../../etc/passwd", false},
		{"/usr/share/zoneinfo/UTC", false},
		{"America/Sao Paulo", false},
		{"localtime", false}, // the machine's /etc/localtime
		{"posixrules", false},
		{"Factory", false},
		{"posix/America/Sao_Paulo", false},
		{"right/UTC", false},
		{"Etc/GMT+3", true},
	} {
		if got := ValidTimeZone(tt.name); got != tt.ok {
			t.Errorf("ValidTimeZone(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
	for _, z := range TimeZones {
		if !ValidTimeZone(z) {
			t.Errorf("the offered zone %s does not load", z)
		}
	}
}

func TestTenantLocation(t *testing.T) {
	at := time.Date(2026, 12, 5, 15, 40, 0, 0, time.UTC)
	for _, tt := range []struct {
		zone string
		want string
	}{
		{"America/Manaus", "11:40"},
		{"America/Sao_Paulo", "12:40"},
		{"", "12:40"},             // a tenant without one: Brasília time
		{"Marte/Olimpo", "12:40"}, // never stored, but never a panic
		{"Europe/Lisbon", "15:40"},
	} {
		tn := &Tenant{TimeZone: tt.zone}
		if got := at.In(tn.Location()).Format("15:04"); got != tt.want {
			t.Errorf("zone %q: %s, want %s", tt.zone, got, tt.want)
		}
	}
}

// FuzzValidTimeZone: any text is judged without a panic, and a zone judged
// valid is the zone Location returns.
func FuzzValidTimeZone(f *testing.F) {
	for _, s := range []string{"America/Sao_Paulo", "UTC", "Local", "", "../x", "Etc/GMT+3", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidTimeZone(name) {
			if got := (&Tenant{TimeZone: name}).Location().String(); got != name {
				t.Fatalf("valid %q gives the location %q", name, got)
			}
		}
	})
}
