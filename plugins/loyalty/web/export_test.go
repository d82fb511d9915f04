package web

import "sort"

// MessageKeys lists every message key (of any language), for the tests.
func MessageKeys() []string {
	seen := map[string]bool{}
	for _, m := range messages {
		for k := range m {
			seen[k] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Message is the message key in lang, if it exists.
func Message(lang, key string) (string, bool) {
	m, ok := messages[lang][key]
	return m, ok
}

// ParseAmount is the pages' amount parser.
var ParseAmount = parseAmount
