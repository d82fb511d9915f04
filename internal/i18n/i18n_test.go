package i18n

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/portico-dev/portico/internal/model"
)

func TestEveryLocaleHasEveryKey(t *testing.T) {
	ref, err := Keys(model.SupportedLocales[0])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ref)
	for _, loc := range model.SupportedLocales[1:] {
		keys, err := Keys(loc)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(keys)
		for _, k := range ref {
			if _, found := slices.BinarySearch(keys, k); !found {
				t.Errorf("%s lacks %q", loc, k)
			}
		}
		for _, k := range keys {
			if _, found := slices.BinarySearch(ref, k); !found {
				t.Errorf("%s has %q, which %s lacks", loc, k, model.SupportedLocales[0])
			}
		}
	}
}

// TestPluralsHaveManyForm guards the CLDR "many" category of pt and es
// (exact millions): a plural message without it fails at 1,000,000.
func TestPluralsHaveManyForm(t *testing.T) {
	cat, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range model.SupportedLocales {
		m, err := messages(loc)
		if err != nil {
			t.Fatal(err)
		}
		for k, raw := range m {
			if !strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
				continue
			}
			for _, n := range []int{0, 1, 2, 1_000_000} {
				before := cat.Missing()
				out := cat.Localizer(loc).T(k, "Count", n)
				if cat.Missing() != before || out == k {
					t.Errorf("%s %s with Count=%d failed: %q", loc, k, n, out)
				}
			}
		}
	}
}

var templateKeyRe = regexp.MustCompile(`\.L\.T "([a-z0-9_]+(?:\.[a-z0-9_]+)+)"`)
var goKeyRe = regexp.MustCompile(`\.T\("([a-z0-9_]+(?:\.[a-z0-9_]+)+)"`)
var codeRe = regexp.MustCompile(`Fail\([^,]+, "([a-z_]+)"\)`)

// TestUsedKeysExist scans the templates and Go sources for message keys and
// error codes and checks each is in the catalogue.
func TestUsedKeysExist(t *testing.T) {
	keys, err := Keys(model.SupportedLocales[0])
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, k := range keys {
		have[k] = true
	}
	root := filepath.Join("..", "..")
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "data") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".html") || strings.HasSuffix(path, ".go")) || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range []*regexp.Regexp{templateKeyRe, goKeyRe} {
			for _, m := range re.FindAllSubmatch(b, -1) {
				checked++
				if !have[string(m[1])] {
					t.Errorf("%s uses missing key %q", path, m[1])
				}
			}
		}
		for _, m := range codeRe.FindAllSubmatch(b, -1) {
			checked++
			if !have["error."+string(m[1])] {
				t.Errorf("%s uses error code %q without an error.%s message", path, m[1], m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 30 {
		t.Fatalf("only %d key uses found; the scan is broken", checked)
	}
}

func TestMatch(t *testing.T) {
	cat, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"":                         "",
		"pt-BR,pt;q=0.9":           "pt-BR",
		"pt-PT":                    "pt-BR",
		"es-AR,es;q=0.9,en;q=0.8":  "es",
		"en-US,en;q=0.9":           "en",
		"de-DE":                    "",
		"fr-FR,en;q=0.5":           "en",
		"*":                        "",
		"garbage;;;==":             "",
		strings.Repeat("en-", 500): "",
	}
	for in, want := range tests {
		if got := cat.Match(in); got != want {
			t.Errorf("Match(%.40q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzMatch(f *testing.F) {
	cat, err := New(nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"pt-BR", "es;q=0.5,en", "x-klingon", "*;q=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := cat.Match(s)
		if got != "" && !model.ValidLocale(got) {
			t.Fatalf("Match(%q) = %q, not a supported locale", s, got)
		}
	})
}

func TestNumberFormat(t *testing.T) {
	cat, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cat.Localizer("pt-BR").Number(1234567); got != "1.234.567" {
		t.Errorf("pt-BR: %q", got)
	}
	if got := cat.Localizer("en").Number(1234567); got != "1,234,567" {
		t.Errorf("en: %q", got)
	}
}

func TestDateTime(t *testing.T) {
	cat, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 15, 40, 7, 0, time.UTC)
	for _, tt := range []struct {
		locale  string
		t       time.Time
		loc     *time.Location
		seconds bool
		want    string
	}{
		{"pt-BR", at, sp, false, "05/12/2026 12:40"},
		{"es", at, sp, true, "05/12/2026 12:40:07"},
		{"en", at, sp, false, "Dec 5, 2026 12:40"},
		{"en", at, time.UTC, true, "Dec 5, 2026 15:40:07"},
		{"pt-BR", time.Time{}, sp, false, "—"},
	} {
		if got := cat.Localizer(tt.locale).DateTime(tt.t, tt.loc, tt.seconds); got != tt.want {
			t.Errorf("%s %v seconds=%v: %q, want %q", tt.locale, tt.loc, tt.seconds, got, tt.want)
		}
	}
}

// TestPlainLookupsAreKept: a message asked for without arguments is the
// same from the second call on (it is kept), one asked for with arguments
// is still filled with them, and an unknown key is reported on every call.
func TestPlainLookupsAreKept(t *testing.T) {
	c, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range model.SupportedLocales {
		l := c.Localizer(loc)
		keys, err := Keys(loc)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if first, again := l.T(k), l.T(k); first != again {
				t.Errorf("%s %s: %q, then %q", loc, k, first, again)
			}
		}
		greeting := l.T("home.greeting", "Name", "Ana")
		if !strings.Contains(greeting, "Ana") || strings.Contains(l.T("home.greeting", "Name", "Bia"), "Ana") {
			t.Errorf("%s: a message with arguments was kept: %q", loc, greeting)
		}
	}
	before := c.Missing()
	l := c.Localizer("pt-BR")
	if l.T("no.such.key") != "no.such.key" || l.T("no.such.key") != "no.such.key" || c.Missing() != before+2 {
		t.Errorf("an unknown key: missing went from %d to %d, want +2", before, c.Missing())
	}
}

// viaGoI18n is T's lookup through go-i18n, which the simple messages skip.
func viaGoI18n(t testing.TB, l *Localizer, id string, data map[string]any) string {
	t.Helper()
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		t.Fatalf("%s %s: %v", l.locale, id, err)
	}
	return s
}

// TestSimpleMessagesAsGoI18n: every templated message T fills in by
// itself reads exactly as go-i18n's template makes it, with strings,
// numbers and missing arguments; and every templated message of one form
// is filled in by itself (none left to the slow path unnoticed).
func TestSimpleMessagesAsGoI18n(t *testing.T) {
	c, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range model.SupportedLocales {
		l := c.Localizer(loc)
		raw, err := messages(loc)
		if err != nil {
			t.Fatal(err)
		}
		for id, r := range raw {
			var src string
			if json.Unmarshal(r, &src) == nil && strings.Contains(src, "{{") && !strings.Contains(src, ".Count") {
				if _, ok := l.simple[id]; !ok {
					t.Errorf("%s %s: templated message %q is not filled in by T itself", loc, id, src)
				}
			}
		}
		if len(l.simple) == 0 {
			t.Fatalf("%s: no simple message", loc)
		}
		for id, m := range l.simple {
			if slices.Contains(m.args, "Count") {
				continue // T leaves plural counts to go-i18n
			}
			for _, values := range []func(string) any{
				func(k string) any { return "<b>" + k + " & 'ç' {{.X}}</b>" },
				func(k string) any { return len(k) * 1000 },
				func(string) any { return nil },
			} {
				args, data := []any{}, map[string]any{}
				for i, a := range m.args {
					if i == 1 {
						continue // one argument missing, when there are two
					}
					args = append(args, a, values(a))
					data[a] = values(a)
				}
				if got, want := l.T(id, args...), viaGoI18n(t, l, id, data); got != want {
					t.Errorf("%s %s: T = %q, go-i18n = %q", loc, id, got, want)
				}
			}
		}
	}
}

// FuzzSimpleMessage: any template parseSimple accepts, filled in with any
// value, reads as text/template (go-i18n's) makes it.
func FuzzSimpleMessage(f *testing.F) {
	f.Add("Olá, {{.Name}}!", "Ana")
	f.Add("{{ .A }}{{.B}} x", "<")
	f.Add("{{if .A}}x{{end}}", "a")
	f.Add("a }} b {{.C}}", "")
	f.Fuzz(func(t *testing.T, src, value string) {
		m, ok := parseSimple(src)
		if !ok {
			return
		}
		tmpl, err := template.New("").Parse(src)
		if err != nil {
			t.Fatalf("parseSimple accepted %q, which text/template refuses: %v", src, err)
		}
		data := map[string]any{}
		args := []any{}
		for _, a := range m.args {
			data[a] = value
			args = append(args, a, value)
		}
		var b strings.Builder
		if err := tmpl.Execute(&b, data); err != nil {
			t.Fatalf("execute %q: %v", src, err)
		}
		if got := m.render(args); got != b.String() {
			t.Errorf("%q with %q: %q, text/template %q", src, value, got, b.String())
		}
	})
}

// BenchmarkTemplatedLookup is the home page's greeting: T filling in a
// simple message, against go-i18n executing its template.
func BenchmarkTemplatedLookup(b *testing.B) {
	c, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	l := c.Localizer("pt-BR")
	b.Run("T", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = l.T("home.greeting", "Name", "Carla Cliente")
		}
	})
	b.Run("go-i18n", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = viaGoI18n(b, l, "home.greeting", map[string]any{"Name": "Carla Cliente"})
		}
	})
}

// tuteo matches the forms that give away "tú": its pronouns and
// possessives, verbs in its second person, and imperatives with an
// attached pronoun (inténtalo). Imperatives such as "elige" are caught only
// by review: most are spelled like the third person ("usa", "sube").
// (Letters bound the words: \b knows only ASCII ones, and ú is not.)
var tuteo = regexp.MustCompile(`(?i)(?:^|[^\p{L}])(tú|tu|tus|ti|contigo|tienes|puedes|estás|quieres|debes|sabes|editabas|revisa|inténtalo|pídeselo|quitarte)(?:[^\p{L}]|$)`)

// TestSpanishIsFormal: the Spanish messages address people as "usted",
// as a company's portal does, everywhere (they used to mix in "tú").
func TestSpanishIsFormal(t *testing.T) {
	raw, err := messages("es")
	if err != nil {
		t.Fatal(err)
	}
	for id, m := range raw {
		if w := tuteo.FindStringSubmatch(string(m)); w != nil {
			t.Errorf("%s says %q, a form of tú: %s", id, w[1], m)
		}
	}
}

// TestObjectOnce: a catalogue file that defines one key twice is refused
// (json.Unmarshal would keep the second line and hide the first).
func TestObjectOnce(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{`{"a": "x", "b": {"one": "y"}}`, true},
		{`{}`, true},
		{`{"a": "x", "a": "y"}`, false},
		{`["a"]`, false},
		{`{"a": "x"`, false},
	} {
		if _, err := objectOnce([]byte(tt.in)); (err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
