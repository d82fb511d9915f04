package model

import (
	"regexp"
	"strings"
	"sync"
	"time"

	// The zone database is compiled in: a fresh container often has no
	// /usr/share/zoneinfo, and a tenant's zone must load everywhere.
	_ "time/tzdata"
)

// DefaultTimeZone is a new tenant's zone: Brasília time, where most of
// Brazil (and of the companies Portico is made for) lives.
const DefaultTimeZone = "America/Sao_Paulo"

// maxTimeZoneLength bounds a zone name (the longest IANA name is 30).
const maxTimeZoneLength = 64

var zoneName = regexp.MustCompile(`^[A-Z][A-Za-z0-9_+-]*(/[A-Z][A-Za-z0-9_+-]*)+$`)

// TimeZones are the zones the admin's settings offer, Brazil's first; the
// admin API accepts any IANA name that ValidTimeZone accepts.
var TimeZones = []string{
	"America/Sao_Paulo", "America/Bahia", "America/Fortaleza", "America/Recife", "America/Maceio", "America/Belem",
	"America/Araguaina", "America/Santarem", "America/Manaus", "America/Cuiaba", "America/Campo_Grande",
	"America/Porto_Velho", "America/Boa_Vista", "America/Rio_Branco", "America/Noronha",
	"America/Argentina/Buenos_Aires", "America/Asuncion", "America/Bogota", "America/La_Paz", "America/Lima",
	"America/Mexico_City", "America/Montevideo", "America/Santiago", "Europe/Lisbon", "UTC",
}

var zones sync.Map // name → *time.Location

// zoneName is the shape of a canonical IANA name, Area/Location: it keeps
// out what time.LoadLocation would also find in the machine's zoneinfo
// folder and means something else on another machine ("Local",
// "localtime", "posixrules", "Factory", a lower-case spelling that a
// case-insensitive file system finds).

// ValidTimeZone reports whether name is a canonical IANA zone ("UTC", or
// Area/Location such as "America/Sao_Paulo") that this binary knows.
// "Local" and "localtime" (the server's own zone, which differs from
// machine to machine), "" and the posix/ and right/ variants are not.
func ValidTimeZone(name string) bool {
	_, ok := loadZone(name)
	return ok
}

func loadZone(name string) (*time.Location, bool) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), true
	}
	if len(name) > maxTimeZoneLength || (name != "UTC" && !zoneName.MatchString(name)) ||
		strings.HasPrefix(name, "posix/") || strings.HasPrefix(name, "right/") {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	zones.Store(name, loc)
	return loc, true
}

// Location returns the tenant's zone; a zone that does not load (a row
// written before the column existed holds the default) is DefaultTimeZone.
func (t *Tenant) Location() *time.Location {
	if loc, ok := loadZone(t.TimeZone); ok {
		return loc
	}
	loc, _ := loadZone(DefaultTimeZone)
	return loc
}
