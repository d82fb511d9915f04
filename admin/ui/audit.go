package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
)

// auditPageSize is how many entries one page of the audit log shows.
const auditPageSize = 50

// auditActions and auditTargets feed the filters' suggestions.
var (
	auditActions = model.AuditActions
	auditTargets = []string{"plugin", "user", "api_key", "tenant"}
)

type auditPage struct {
	Action, TargetType, Actor string
	// Actions are the action filter's choices, in words.
	Actions           []auditAction
	Targets           []string
	Entries           []auditEntry
	NextURL, FirstURL string
}

// auditAction is one choice of the action filter: its code and its words.
type auditAction struct{ Code, Text string }

type auditEntry struct {
	model.AuditEntry
	Before, After string
	// ActionText is the action in words (the code stays in Action).
	ActionText string
	// TargetText is the target's type in words, TargetName what the
	// manager knows it by: its e-mail, name, title or slug in the
	// snapshot, else its ID.
	TargetText, TargetName string
	// Changes lists, in words, each field whose value differs between
	// the snapshots; the raw JSON stays one click away.
	Changes []auditChange
}

// auditChange is one changed field: its name and both values, as a
// manager reads them.
type auditChange struct {
	Field, Before, After string
}

// describe fills the entry's words in l's language. A key the catalogue
// lacks is shown as it is stored.
func (u *UI) describe(l *i18n.Localizer, when func(any) string, e *auditEntry) {
	e.ActionText = u.actionText(l, e.Action)
	e.TargetText, e.TargetName = e.TargetType, e.TargetID
	if key := "admin.audit.target_" + e.TargetType; u.keys[key] {
		e.TargetText = l.T(key)
	}
	var before, after map[string]any
	_ = json.Unmarshal([]byte(e.BeforeJSON), &before)
	_ = json.Unmarshal([]byte(e.AfterJSON), &after)
	for _, snap := range []map[string]any{after, before} {
		if name := snapshotName(snap); name != "" {
			e.TargetName = name
			break
		}
	}
	if before == nil && after == nil {
		return
	}
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	var field string // the field value formats, for the values that depend on it
	value := func(v any) string {
		switch x := v.(type) {
		case string:
			if model.ShowsRedacted(field, x) {
				return l.T("admin.audit.redacted")
			}
			// A stored time (expires_at, set_at…): in the tenant's
			// zone and the reader's language, like every time here.
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil && len(x) >= len("2006-01-02T15:04:05Z") {
				return when(t)
			}
		case []any:
			if field == "roles" {
				parts := make([]string, 0, len(x))
				for _, r := range x {
					if s, ok := r.(string); ok && u.keys["role."+s] {
						parts = append(parts, l.T("role."+s))
					} else {
						parts = append(parts, auditValue(l, r))
					}
				}
				if len(parts) > 0 {
					return strings.Join(parts, ", ")
				}
			}
		case map[string]any:
			if field == "address" {
				return addressText(l, x)
			}
		}
		return auditValue(l, v)
	}
	if e.Action == model.AuditPluginConfig {
		// A configuration's snapshot holds "type:value" per key (the
		// keys are the gestor's own names, shown as they are).
		value = func(v any) string { return u.configValue(l, v) }
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		b, bok := before[k]
		a, aok := after[k]
		if (bok && aok && reflect.DeepEqual(b, a)) || ((k == "version" || k == "id") && e.Action != model.AuditPluginConfig) {
			continue // unchanged, or the record's version counter or id (the entry names the record)
		}
		field = k
		ch := auditChange{Field: k, Before: l.T("admin.audit.empty"), After: l.T("admin.audit.empty")}
		if key := "audit.field." + k; e.Action != model.AuditPluginConfig && u.keys[key] {
			ch.Field = l.T(key)
		} else if key := pluginLabels(k); key != "" && e.Action != model.AuditPluginConfig {
			ch.Field = l.T(key)
		}
		if bok {
			ch.Before = value(b)
		}
		if aok {
			ch.After = value(a)
		}
		e.Changes = append(e.Changes, ch)
	}
}

// addressText is a stored address (model.Address's fields) on one line:
// "Rua X, 10, apto 2, Centro, São Paulo/SP, CEP 01000-000"; "(vazio)"
// when it has nothing.
func addressText(l *i18n.Localizer, a map[string]any) string {
	get := func(k string) string { s, _ := a[k].(string); return strings.TrimSpace(s) }
	var parts []string
	for _, k := range []string{"Street", "Number", "Complement", "District"} {
		if s := get(k); s != "" {
			parts = append(parts, s)
		}
	}
	switch city, uf := get("City"), get("State"); {
	case city != "" && uf != "":
		parts = append(parts, city+"/"+uf)
	case city != "" || uf != "":
		parts = append(parts, city+uf)
	}
	if cep := get("CEP"); cep != "" {
		parts = append(parts, "CEP "+model.FormatCEP(cep))
	}
	if len(parts) == 0 {
		return l.T("admin.audit.empty")
	}
	return strings.Join(parts, ", ")
}

// configValue shows one value of a configuration snapshot, "type:value":
// the value, followed by its type when it is not text ("30 (Número)").
func (u *UI) configValue(l *i18n.Localizer, v any) string {
	s, ok := v.(string)
	typ, val, found := strings.Cut(s, ":")
	if !ok || !found {
		return auditValue(l, v)
	}
	out := auditValue(l, val)
	if key := "admin.config.type_" + typ; typ != string(model.ConfigString) && u.keys[key] {
		out += " (" + l.T(key) + ")"
	}
	return out
}

// actionText is an audit action in l's language, or its code when the
// catalogue lacks it.
func (u *UI) actionText(l *i18n.Localizer, action string) string {
	if key := "audit.action." + action; u.keys[key] {
		return l.T(key)
	}
	return action
}

// snapshotName is what a snapshot's record is known by: the first text of
// its e-mail, name, title or slug; "" when it has none.
func snapshotName(snap map[string]any) string {
	for _, k := range []string{"email", "name", "title", "slug"} {
		if s, ok := snap[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// auditValue shows one snapshot value: yes or no, a list joined by
// commas, "(vazio)" for an empty text or list, JSON for anything else.
func auditValue(l *i18n.Localizer, v any) string {
	switch x := v.(type) {
	case nil:
		return l.T("admin.audit.empty")
	case bool:
		if x {
			return l.T("admin.audit.yes")
		}
		return l.T("admin.audit.no")
	case string:
		if x == "" {
			return l.T("admin.audit.empty")
		}
		// Quoted when it holds a character that would not show as itself
		// (a bidirectional override in a plugin's key or an imported
		// name would reorder the cell), as the data page shows keys.
		shown, _ := keyText(x)
		return shown
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		if len(x) == 0 {
			return l.T("admin.audit.empty")
		}
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = auditValue(l, it)
		}
		return strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// KindKey is the catalogue key naming who acted: a person, a key, the system.
func (e auditEntry) KindKey() string {
	switch e.ActorType {
	case "user", "api_key", model.ActorSystem:
		return "admin.audit.kind_" + e.ActorType
	}
	return "admin.audit.kind_other"
}

// pretty indents a stored JSON snapshot for a <pre>, with every character
// that would not show as itself (hidden, as the data page decides) written
// as a \u escape, which leaves the JSON equal: a bidirectional override in
// a plugin's key or an imported name would otherwise reorder the block.
func pretty(s string) string {
	if s == "" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		return s
	}
	var out strings.Builder
	for _, r := range buf.String() {
		switch {
		case r == '\n' || !hidden(r):
			out.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.String()
}

func (u *UI) showAudit(c *fiber.Ctx) error {
	ctx, t := c.UserContext(), web.Tenant(c)
	d := &auditPage{
		Action: strings.TrimSpace(c.Query("action")), TargetType: strings.TrimSpace(c.Query("target_type")),
		Actor: strings.TrimSpace(c.Query("actor")), Targets: auditTargets,
	}
	before := strings.TrimSpace(c.Query("before"))
	if len(d.Action) > 64 || len(d.TargetType) > 32 || len(d.Actor) > model.MaxEmailLength || len(before) > 64 ||
		!model.ValidText(d.Action+d.TargetType+d.Actor+before, false) {
		return web.Fail(fiber.StatusBadRequest, "invalid_parameter")
	}
	f := model.AuditFilter{Action: d.Action, TargetType: d.TargetType, Before: before, Limit: auditPageSize + 1}
	if d.Actor != "" {
		id, err := u.actorID(c, d.Actor)
		if err != nil {
			return err
		}
		f.ActorID = id
	}
	entries, err := u.store.AuditLog(ctx, t.ID, f)
	if err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"action": d.Action, "target_type": d.TargetType, "actor": d.Actor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("before", entries[len(entries)-1].ID)
		d.NextURL = "/admin/audit?" + next.Encode()
	}
	if before != "" {
		d.FirstURL = "/admin/audit"
		if len(q) > 0 {
			d.FirstURL += "?" + q.Encode()
		}
	}
	l := web.L(c)
	for _, a := range auditActions {
		d.Actions = append(d.Actions, auditAction{Code: a, Text: u.actionText(l, a)})
	}
	if d.Action != "" && !slices.Contains(auditActions, d.Action) {
		// A link to an action this version does not know still shows
		// what it filters on.
		d.Actions = append(d.Actions, auditAction{Code: d.Action, Text: d.Action})
	}
	v := u.newView(c, "audit", "admin.audit.title")
	when := v.When
	for _, e := range entries {
		ae := auditEntry{AuditEntry: e, Before: pretty(e.BeforeJSON), After: pretty(e.AfterJSON)}
		u.describe(l, when, &ae)
		d.Entries = append(d.Entries, ae)
	}
	v.D = d
	return u.render(c, fiber.StatusOK, "audit", v)
}

// actorID resolves the actor filter: a user's e-mail, an API key's name, or
// an actor ID as the table links it. Nothing found filters everything out.
func (u *UI) actorID(c *fiber.Ctx, actor string) (string, error) {
	ctx, t := c.UserContext(), web.Tenant(c)
	const nobody = "-"
	if strings.Contains(actor, "@") {
		email, err := model.NormalizeEmail(actor)
		if err != nil {
			return nobody, nil
		}
		usr, err := u.store.UserByEmail(ctx, t.ID, email)
		if errors.Is(err, model.ErrNotFound) {
			return nobody, nil
		}
		if err != nil {
			return "", err
		}
		return usr.ID, nil
	}
	keys, err := u.store.APIKeys(ctx, t.ID)
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		if strings.EqualFold(k.Name, actor) || k.ID == actor {
			return k.ID, nil
		}
	}
	return actor, nil // perhaps an ID (a user's, or the system's)
}
