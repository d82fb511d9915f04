// Package i18n is Portico's message catalogue: every user-visible string, in
// pt-BR (the default), es and en, loaded from embedded JSON files through
// github.com/nicksnyder/go-i18n.
//
// Templates call .L.T "key"; Go code calls Localizer.T. A key missing from the
// catalogue renders as the key itself and is counted (see Missing), and the
// package's tests fail when any key exists in one language but not another.
package i18n

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/sdk/abi"
)

// The catalogue is split by area: locales/{lang}.json holds the core
// messages and locales/{area}/{lang}.json each feature's own; a key must be
// defined in exactly one file.
//
//go:embed locales
var files embed.FS

// localeFiles lists every message file of one language.
func localeFiles(locale string) ([]string, error) {
	var out []string
	err := fs.WalkDir(files, "locales", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == locale+".json" {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s messages: %w", locale, err)
	}
	return out, nil
}

// messages returns every message of one language, raw, keyed by ID; a key
// defined in two files is an error.
func messages(locale string) (map[string]json.RawMessage, error) {
	paths, err := localeFiles(locale)
	if err != nil {
		return nil, err
	}
	all := map[string]json.RawMessage{}
	for _, p := range paths {
		b, err := files.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		m, err := objectOnce(b)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", p, err)
		}
		for k, v := range m {
			if _, dup := all[k]; dup {
				return nil, fmt.Errorf("%s: message %q is defined twice", p, k)
			}
			all[k] = v
		}
	}
	return all, nil
}

// objectOnce parses a JSON object whose keys each appear once: json.Unmarshal
// would keep the last of two lines with one key, and the other would be
// dead text nobody notices.
func objectOnce(b []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object (%v)", err)
	}
	m := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("message %q: %w", k, err)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("message %q is defined twice", k)
		}
		m[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return m, nil
}

// Catalog holds the loaded messages and one Localizer per language.
type Catalog struct {
	bundle     *goi18n.Bundle
	matcher    language.Matcher
	localizers map[string]*Localizer
	missing    atomic.Int64
	log        *slog.Logger
}

// MaxAcceptLanguage bounds the Accept-Language header we parse; longer
// values are cut, which at worst drops the least preferred languages.
const MaxAcceptLanguage = 256

// New loads the embedded catalogue.
func New(log *slog.Logger) (*Catalog, error) {
	if log == nil {
		log = slog.Default()
	}
	b := goi18n.NewBundle(language.BrazilianPortuguese)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	tags := make([]language.Tag, 0, len(model.SupportedLocales))
	simple := make([]map[string]simpleMessage, 0, len(model.SupportedLocales))
	for _, loc := range model.SupportedLocales {
		raw, err := messages(loc) // rejects duplicate keys
		if err != nil {
			return nil, err
		}
		simple = append(simple, simpleMessages(raw))
		paths, err := localeFiles(loc)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			if _, err := b.LoadMessageFileFS(files, p); err != nil {
				return nil, fmt.Errorf("load %s: %w", p, err)
			}
		}
		tag := language.MustParse(loc)
		if err := b.AddMessages(tag, roleMessages(loc)...); err != nil {
			return nil, fmt.Errorf("add %s role names: %w", loc, err)
		}
		tags = append(tags, tag)
	}
	c := &Catalog{bundle: b, matcher: language.NewMatcher(tags), localizers: map[string]*Localizer{}, log: log}
	for i, loc := range model.SupportedLocales {
		c.localizers[loc] = &Localizer{
			cat:     c,
			locale:  loc,
			loc:     goi18n.NewLocalizer(b, loc),
			printer: message.NewPrinter(tags[i]),
			simple:  simple[i],
		}
	}
	return c, nil
}

// simpleMessage is a message of one form whose template only prints
// arguments, as "Olá, {{.Name}}": the text between the arguments, and
// their names. Every templated message of the catalogue is of this kind
// but the plural ones.
type simpleMessage struct {
	texts []string // len(args)+1
	args  []string
}

// simpleArg is a template action printing one argument.
var simpleArg = regexp.MustCompile(`\{\{[ \t\r\n]*\.([A-Za-z_][A-Za-z0-9_]*)[ \t\r\n]*\}\}`)

// parseSimple splits a template into a simpleMessage, or reports false
// when it holds any other action.
func parseSimple(src string) (simpleMessage, bool) {
	var m simpleMessage
	at := 0
	for _, ix := range simpleArg.FindAllStringSubmatchIndex(src, -1) {
		m.texts = append(m.texts, src[at:ix[0]])
		m.args = append(m.args, src[ix[2]:ix[3]])
		at = ix[1]
	}
	m.texts = append(m.texts, src[at:])
	for i, t := range m.texts {
		// A text with "{{" holds an action; one ending in "{" makes one with
		// the argument's "{{" after it ("{{{.A}}").
		if strings.Contains(t, "{{") || i < len(m.args) && strings.HasSuffix(t, "{") {
			return simpleMessage{}, false
		}
	}
	return m, true
}

// simpleMessages returns the templated messages of one form of a
// language's raw messages (messages) that parseSimple can split, keyed by
// ID.
func simpleMessages(raw map[string]json.RawMessage) map[string]simpleMessage {
	out := map[string]simpleMessage{}
	for id, r := range raw {
		var src string
		if json.Unmarshal(r, &src) != nil || !strings.Contains(src, "{{") {
			continue // plural forms, or nothing to fill in
		}
		if m, ok := parseSimple(src); ok {
			out[id] = m
		}
	}
	return out
}

// render fills m in with args (key, value pairs, as T takes them), printing
// each value as the template would: fmt's default format, and "<no value>"
// for a missing or nil argument.
func (m *simpleMessage) render(args []any) string {
	var b strings.Builder
	for i, name := range m.args {
		b.WriteString(m.texts[i])
		var v any
		found := false
		for j := 0; j+1 < len(args); j += 2 {
			if k, _ := args[j].(string); k == name {
				v, found = args[j+1], true
			}
		}
		switch s, isString := v.(string); {
		case !found || v == nil:
			b.WriteString("<no value>")
		case isString:
			b.WriteString(s)
		default:
			fmt.Fprint(&b, v)
		}
	}
	b.WriteString(m.texts[len(m.texts)-1])
	return b.String()
}

// Localizer returns the localizer of locale, or of the default locale when
// locale is not supported.
func (c *Catalog) Localizer(locale string) *Localizer {
	if l, ok := c.localizers[locale]; ok {
		return l
	}
	return c.localizers[model.SupportedLocales[0]]
}

// Match picks the supported locale that best fits an Accept-Language header.
// It returns "" when the header names no language we speak, so the caller
// can fall back to the tenant's default.
func (c *Catalog) Match(acceptLanguage string) string {
	if len(acceptLanguage) > MaxAcceptLanguage {
		acceptLanguage = acceptLanguage[:MaxAcceptLanguage]
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return ""
	}
	// Match may return a tag with extensions; the index is what identifies
	// the supported locale.
	_, idx, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return ""
	}
	return model.SupportedLocales[idx]
}

// Missing returns how many lookups named a key absent from the catalogue
// since start.
func (c *Catalog) Missing() int64 { return c.missing.Load() }

// Localizer translates messages into one language.
type Localizer struct {
	cat     *Catalog
	locale  string
	loc     *goi18n.Localizer
	printer *message.Printer
	// plain keeps the translation of each message asked for without
	// arguments: go-i18n matches the language and executes a template on
	// every call, which was half the cost of rendering the home page. The
	// result of a lookup without arguments never changes, and only
	// messages the catalogue holds are kept, so it is bounded by its size.
	plain sync.Map // message ID → string
	// simple holds the messages T fills in without go-i18n, whose template
	// execution was most of a templated lookup's cost; read only.
	simple map[string]simpleMessage
}

// Locale returns the localizer's language tag, e.g. "pt-BR".
func (l *Localizer) Locale() string { return l.locale }

// T translates id. Optional args are key, value pairs for the message's
// template data, e.g. T("menu.count", "Count", 3); a "Count" value also
// selects the plural form.
func (l *Localizer) T(id string, args ...any) string {
	if len(args) == 0 {
		if s, ok := l.plain.Load(id); ok {
			return s.(string)
		}
	}
	if m, ok := l.simple[id]; ok && !hasCount(args) {
		return m.render(args)
	}
	cfg := &goi18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			k, _ := args[i].(string)
			data[k] = args[i+1]
			if k == "Count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := l.loc.Localize(cfg)
	if err != nil {
		l.cat.missing.Add(1)
		l.cat.log.Error("missing translation", "locale", l.locale, "message_id", id, "err", err)
		return id
	}
	if len(args) == 0 {
		l.plain.Store(id, s)
	}
	return s
}

// hasCount reports whether args hold a "Count", which selects a plural
// form: those lookups go through go-i18n.
func hasCount(args []any) bool {
	for i := 0; i < len(args); i += 2 {
		if k, _ := args[i].(string); k == "Count" {
			return true
		}
	}
	return false
}

// Number formats n with the locale's digit grouping (1.234 in pt-BR).
func (l *Localizer) Number(n int64) string {
	return l.printer.Sprint(number.Decimal(n))
}

// DateTime formats t in loc as the locale writes a date and a time, to
// the minute or, with seconds, to the second: 05/12/2026 12:40 in pt-BR
// and es, Dec 5, 2026 12:40 in English (a 24-hour clock in all three; a
// day-first 05/12 would be misread in English). The zero time is "—".
func (l *Localizer) DateTime(t time.Time, loc *time.Location, seconds bool) string {
	if t.IsZero() {
		return "—"
	}
	layout := "02/01/2006 15:04"
	if l.locale == "en" {
		layout = "Jan 2, 2006 15:04"
	}
	if seconds {
		layout += ":05"
	}
	return t.In(loc).Format(layout)
}

// Keys returns the message IDs of one language; tests compare them.
func Keys(locale string) ([]string, error) {
	m, err := messages(locale)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(m)+len(abi.Roles))
	for k := range m {
		out = append(out, k)
	}
	for _, msg := range roleMessages(locale) {
		out = append(out, msg.ID)
	}
	return out, nil
}

// roleMessages are the role.{role} messages of locale: the words of the
// plugin contract (abi.RoleName), so the portal and plugins name roles
// alike.
func roleMessages(locale string) []*goi18n.Message {
	out := make([]*goi18n.Message, 0, len(abi.Roles))
	for _, r := range abi.Roles {
		out = append(out, &goi18n.Message{ID: "role." + r, Other: abi.RoleName(r, locale)})
	}
	return out
}

// LanguageName returns a locale's name in its own language, for pickers.
func LanguageName(locale string) string {
	switch strings.ToLower(locale) {
	case "pt-br":
		return "Português (Brasil)"
	case "es":
		return "Español"
	case "en":
		return "English"
	}
	return locale
}
