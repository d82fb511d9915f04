package model

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/portico-dev/portico/sdk/abi"
)

// Titles are a plugin's menu titles in other languages: locale ("pt-BR",
// "es", "en") → title. Title stays the title in every language without
// one, so a tenant translates only what it wants to.
type Titles map[string]string

// Value implements driver.Valuer: a JSON object, "{}" when empty.
func (t Titles) Value() (driver.Value, error) {
	if t == nil {
		t = Titles{}
	}
	b, err := json.Marshal(map[string]string(t))
	if err != nil {
		return nil, fmt.Errorf("encode titles: %w", err)
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (t *Titles) Scan(src any) error {
	s, err := scanText(src)
	if err != nil {
		return fmt.Errorf("scan titles: %w", err)
	}
	out := Titles{}
	if s != "" {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return fmt.Errorf("scan titles: %w", err)
		}
	}
	*t = out
	return nil
}

// checkTitles checks each translation (a language of abi.Locales, a title
// by the rule of Title) and drops empty ones, so "" removes a translation.
func checkTitles(v *ValidationError, t Titles) Titles {
	out := Titles{}
	for _, loc := range t.Locales() {
		field := "titles." + loc
		if !slices.Contains(abi.Locales, loc) {
			v.Add(field, "invalid_choice")
			continue
		}
		if s := CheckField(v, field, t[loc], MaxPluginTitleLength, false, false); s != "" {
			out[loc] = s
		}
	}
	return out
}

// Clone returns a copy of t.
func (t Titles) Clone() Titles { return maps.Clone(t) }

// Locales returns t's locales, sorted.
func (t Titles) Locales() []string { return slices.Sorted(maps.Keys(t)) }

// TitleIn returns the plugin's title in locale: its translation when the
// tenant gave one, Title otherwise.
func (p *Plugin) TitleIn(locale string) string {
	if s := p.Titles[locale]; s != "" {
		return s
	}
	return p.Title
}
