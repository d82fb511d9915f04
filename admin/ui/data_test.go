package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

var (
	dataRowRe    = regexp.MustCompile(`(?s)<tr data-testid="data-row">.*?</tr>`)
	dataKeyRe    = regexp.MustCompile(`<th scope="row" class="data-key"><code[^>]*>(.*?)</code></th>`)
	dataTokenRe  = regexp.MustCompile(`name="key" value="([A-Za-z0-9_-]+)"`)
	dataNextRe   = regexp.MustCompile(`href="([^"]+)" rel="next" data-testid="data-next"`)
	dataUsageRe  = regexp.MustCompile(`<p class="usage" data-testid="usage">([^<]*)</p>`)
	dataFormRe   = regexp.MustCompile(`(?s)<form method="post" action="/admin/plugins/[a-z-]+/data/delete".*?</form>`)
	hiddenInputs = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
)

// newWasm registers a wasm plugin of the demo tenant (no module needed to
// hold data).
func newWasm(t *testing.T, p *servertest.Portal, slug string) *model.Plugin {
	t.Helper()
	pl := &model.Plugin{Slug: slug, Name: "Contador " + slug, Title: "Contador", Type: model.PluginWasm, Icon: "alerta", Active: true,
		ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleAmbos, AuthType: model.AuthNone, Grants: model.StringList{model.GrantKV}}
	testdb.Must(t, pl.Validate(model.PluginRules{IconExists: icon.Exists}), "validate")
	testdb.Must(t, p.Store.CreatePlugin(context.Background(), p.Demo.ID, pl, model.SystemActor("test")), "create %s", slug)
	return pl
}

// dataPageOf reads a data page's rows: each key as shown and its delete
// form's fields.
type shownRow struct {
	shown  string
	fields url.Values
}

func rowsOf(t *testing.T, body string) []shownRow {
	t.Helper()
	var out []shownRow
	for _, row := range dataRowRe.FindAllString(body, -1) {
		k := dataKeyRe.FindStringSubmatch(row)
		f := dataFormRe.FindString(row)
		if k == nil || f == "" {
			t.Fatalf("a row without its key or its delete form: %s", row)
		}
		fields := url.Values{}
		for _, m := range hiddenInputs.FindAllStringSubmatch(f, -1) {
			fields.Add(m[1], html.UnescapeString(m[2]))
		}
		out = append(out, shownRow{shown: html.UnescapeString(k[1]), fields: fields})
	}
	return out
}

// TestAdminUIPluginData drives the data page of a wasm plugin over HTTP
// as a browser without script: the links to it, the usage in the
// reader's language with the warning near the limits, keys a plugin may
// choose shown escaped (never a value), page after page, filtered by a
// prefix, each deleted by its own button (CSRF required, a second click
// told the key is gone), the confirmation that clears them all and the
// empty page after; an iframe plugin has no data page.
func TestAdminUIPluginData(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	cat := loadCatalog(t)
	ctx := context.Background()
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	pl := newWasm(t, p, "contador")
	base := "/admin/plugins/contador/data"

	// Links from the list and the edit page, for wasm plugins only.
	list := string(g.get("/admin/plugins", "pt-BR").Body)
	if !strings.Contains(list, `href="/admin/plugins/contador/data"`) || strings.Contains(list, `href="/admin/plugins/documentos/data"`) {
		t.Errorf("the plugin list does not link the wasm plugin's data page (alone)")
	}
	if !strings.Contains(string(g.get("/admin/plugins/contador", "pt-BR").Body), `href="/admin/plugins/contador/data" data-testid="data-link"`) {
		t.Errorf("the edit page has no data link")
	}
	if strings.Contains(string(g.get("/admin/plugins/documentos", "pt-BR").Body), `data-testid="data-link"`) {
		t.Errorf("an iframe plugin's edit page links a data page")
	}
	for _, path := range []string{"/admin/plugins/documentos/data", "/admin/plugins/documentos/data/clear", "/admin/plugins/nao-existe/data"} {
		if r := g.get(path, "pt-BR"); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, r.Status)
		}
	}

	// Empty.
	r := g.get(base, "pt-BR")
	body := string(r.Body)
	if r.Status != 200 || !strings.Contains(body, `data-testid="data-empty">`+catalogText(t, cat, "pt-BR", "data.empty")) ||
		strings.Contains(body, `data-testid="data-clear-link"`) {
		t.Fatalf("the empty page: %d %.1500s", r.Status, body)
	}
	if m := dataUsageRe.FindStringSubmatch(body); m == nil || html.UnescapeString(m[1]) != "0 de 10.000 chaves · 0\u00a0KB de 16\u00a0MB" {
		t.Errorf("empty usage: %q", m)
	}

	// Keys a plugin may choose, each holding a value the page must never show.
	const secretValue = "token-do-erp-123"
	hostile := []string{`<script>alert("x")</script>`, `"quoted" & 'single'`, "a/b", "100%", "tab\there", "line\nbreak", "\x01ctl",
		"\u202eevil", " lead", "trail ", "..", "日本語", "{{.CSRF}}"}
	for _, k := range hostile {
		testdb.Must(t, p.Store.KVSet(ctx, p.Demo.ID, pl.ID, k, []byte(secretValue)), "set %q", k)
	}
	// Enough keys for pages, and enough bytes to near the limit (over 90%
	// of 16 MiB, in values of 64 KiB).
	for i := range 60 {
		testdb.Must(t, p.Store.KVSet(ctx, p.Demo.ID, pl.ID, fmt.Sprintf("visitas:%03d", i), []byte("1")), "set visit %d", i)
	}
	big := make([]byte, storage.KVMaxValue)
	for i := range 232 {
		testdb.Must(t, p.Store.KVSet(ctx, p.Demo.ID, pl.ID, fmt.Sprintf("z/cache:%03d", i), big), "set cache %d", i)
	}
	keys, bytes, err := p.Store.KVUsage(ctx, p.Demo.ID, pl.ID)
	testdb.Must(t, err, "usage")
	if bytes*10 <= storage.KVMaxBytes*9 {
		t.Fatalf("the test stores %d bytes, not over 90%%", bytes)
	}
	var all []string
	all = append(all, hostile...)
	for i := range 60 {
		all = append(all, fmt.Sprintf("visitas:%03d", i))
	}
	for i := range 232 {
		all = append(all, fmt.Sprintf("z/cache:%03d", i))
	}
	slices.Sort(all)

	// The usage, in each language's numbers, and the warning.
	mb := float64(bytes) / (1 << 20)
	for lang, want := range map[string]string{
		"pt-BR": fmt.Sprintf("%d de 10.000 chaves · %s\u00a0MB de 16\u00a0MB", keys, strings.Replace(fmt.Sprintf("%.1f", mb), ".", ",", 1)),
		"es":    fmt.Sprintf("%d de 10.000 claves · %s\u00a0MB de 16\u00a0MB", keys, strings.Replace(fmt.Sprintf("%.1f", mb), ".", ",", 1)),
		"en":    fmt.Sprintf("%d of 10,000 keys · %.1f\u00a0MB of 16\u00a0MB", keys, mb),
	} {
		body := string(g.get(base, lang).Body)
		if m := dataUsageRe.FindStringSubmatch(body); m == nil || html.UnescapeString(m[1]) != want {
			t.Errorf("%s usage: %q, want %q", lang, m, want)
		}
		if !strings.Contains(body, `data-testid="data-near"><p>`+catalogText(t, cat, lang, "data.near_limit")) {
			t.Errorf("%s: no warning near the limit", lang)
		}
	}

	// Every page: each key once, in byte order, escaped; no value.
	var seen []string
	tokens := map[string]url.Values{}
	path := base
	for pages := 0; path != ""; pages++ {
		if pages > 10 {
			t.Fatalf("the pages do not end")
		}
		r := g.get(path, "pt-BR")
		body := string(r.Body)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d", path, r.Status)
		}
		if strings.Contains(body, secretValue) || strings.Contains(body, "<script>alert") || strings.Contains(body, "\u202e") ||
			strings.Contains(body, "\x01") {
			t.Fatalf("GET %s shows a value, raw markup or a hidden character", path)
		}
		for _, row := range rowsOf(t, body) {
			seen = append(seen, row.shown)
			tokens[row.shown] = row.fields
			if row.fields.Get("_csrf") != g.csrf || row.fields.Get("key") == "" {
				t.Errorf("the delete form of %q has fields %v", row.shown, row.fields)
			}
		}
		path = ""
		if m := dataNextRe.FindStringSubmatch(body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	var wantShown []string
	for _, k := range all {
		switch k {
		case "tab\there", "line\nbreak", "\x01ctl", "\u202eevil", " lead", "trail ":
			wantShown = append(wantShown, fmt.Sprintf("%+q", k)) // quoted, escaped
		default:
			wantShown = append(wantShown, k)
		}
	}
	if !slices.Equal(seen, wantShown) {
		t.Errorf("the pages show\n%q\nwant\n%q", seen, wantShown)
	}
	if s := string(g.get(base, "pt-BR").Body); !strings.Contains(s, `data-testid="data-escaped"`) {
		t.Errorf("quoted keys are not explained")
	}

	// The filter: literal, kept in the field, and in the delete forms.
	r = g.get(base+"?prefix="+url.QueryEscape("a/"), "en")
	rows := rowsOf(t, string(r.Body))
	if len(rows) != 1 || rows[0].shown != "a/b" || rows[0].fields.Get("prefix") != "a/" || !strings.Contains(string(r.Body), `id="f-prefix" name="prefix" value="a/"`) {
		t.Errorf("prefix a/: %+v", rows)
	}
	if r := g.get(base+"?prefix=nada", "en"); !strings.Contains(string(r.Body), `data-testid="data-none">`+html.EscapeString(cat.Localizer("en").T("data.none_with_prefix", "Prefix", "nada"))) {
		t.Errorf("no message for a prefix nothing starts with")
	}
	// A filter that cannot be a key's start, or a forged cursor: said,
	// over the first page.
	for _, q := range []string{"?prefix=" + url.QueryEscape("a\x00b"), "?after=nao*e*cursor"} {
		r := g.get(base+q, "pt-BR")
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `role="alert"`) || len(rowsOf(t, string(r.Body))) == 0 {
			t.Errorf("GET %s: %d, want 400 with the alert over the first page", q, r.Status)
		}
	}

	// Delete keys by their buttons, from the second page and filtered.
	auditBefore, _ := p.Store.CountAudit(ctx, p.Demo.ID)
	for _, k := range []string{`<script>alert("x")</script>`, fmt.Sprintf("%+q", "line\nbreak"), "..", "日本語"} {
		fields := tokens[k]
		if fields == nil {
			t.Fatalf("no delete form for %q", k)
		}
		r := g.post("/admin/plugins/contador/data/delete", "pt-BR", fields)
		q := url.Values{}
		for _, name := range []string{"prefix", "after"} {
			if v := fields.Get(name); v != "" {
				q.Set(name, v)
			}
		}
		q.Set("done", "data_deleted")
		if want := "/admin/plugins/contador/data?" + q.Encode(); r.Status != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Fatalf("delete %q: %d %s, want %s", k, r.Status, r.Header.Get("Location"), want)
		}
		if page := g.follow(r, "pt-BR"); !strings.Contains(string(page.Body), catalogText(t, cat, "pt-BR", "data.flash.deleted")) {
			t.Errorf("no flash after deleting %q", k)
		}
		// A second click: the page says the key is gone.
		r = g.post("/admin/plugins/contador/data/delete", "pt-BR", fields)
		if r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), catalogText(t, cat, "pt-BR", "error.key_not_found")) ||
			!strings.Contains(string(r.Body), `data-testid="data-usage"`) {
			t.Errorf("second delete of %q: %d", k, r.Status)
		}
	}
	for _, k := range []string{`<script>alert("x")</script>`, "line\nbreak", "..", "日本語"} {
		if _, found, _ := p.Store.KVGet(ctx, p.Demo.ID, pl.ID, k); found {
			t.Errorf("%q is still stored", k)
		}
	}
	if n, _ := p.Store.CountAudit(ctx, p.Demo.ID); n != auditBefore+4 {
		t.Errorf("%d deletions audited, want 4", n-auditBefore)
	}
	// Without the CSRF token nothing is deleted.
	fields := tokens["a/b"]
	noToken := url.Values{"key": fields["key"]}
	if r := g.c.Do("POST", "/admin/plugins/contador/data/delete", noToken); r.Status != http.StatusForbidden {
		t.Errorf("delete without CSRF: %d", r.Status)
	}
	if _, found, _ := p.Store.KVGet(ctx, p.Demo.ID, pl.ID, "a/b"); !found {
		t.Errorf("a delete without CSRF went through")
	}

	// Clear everything: a confirmation page first, which says what it does.
	r = g.get(base, "pt-BR")
	if !strings.Contains(string(r.Body), `href="/admin/plugins/contador/data/clear"`) {
		t.Fatalf("no link to clear the data")
	}
	r = g.get(base+"/clear", "pt-BR")
	body = html.UnescapeString(string(r.Body))
	keys, bytes, _ = p.Store.KVUsage(ctx, p.Demo.ID, pl.ID)
	holds := cat.Localizer("pt-BR").T("data.clear.holds", "Count", keys, "N", fmt.Sprint(keys),
		"Bytes", strings.Replace(fmt.Sprintf("%.1f\u00a0MB", float64(bytes)/(1<<20)), ".", ",", 1))
	if r.Status != 200 || !strings.Contains(body, cat.Localizer("pt-BR").T("data.clear.explain")) || !strings.Contains(body, holds) ||
		!strings.Contains(body, `<label class="check"><input type="checkbox" id="f-confirm" name="confirm"`) {
		t.Fatalf("the confirmation page: %d, want %q: %.2000s", r.Status, holds, body)
	}
	r = g.post(base+"/clear", "pt-BR", nil)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="err-confirm"`) {
		t.Errorf("unconfirmed clear: %d", r.Status)
	}
	if n, _, _ := p.Store.KVUsage(ctx, p.Demo.ID, pl.ID); n != keys {
		t.Fatalf("an unconfirmed clear removed keys")
	}
	r = g.post(base+"/clear", "es", url.Values{"confirm": {"1"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != base+"?done=data_cleared" {
		t.Fatalf("clear: %d %s", r.Status, r.Header.Get("Location"))
	}
	page := string(g.follow(r, "es").Body)
	if !strings.Contains(page, catalogText(t, cat, "es", "data.flash.cleared")) || !strings.Contains(page, catalogText(t, cat, "es", "data.empty")) {
		t.Errorf("after the clear: %.1500s", page)
	}
	if n, _, _ := p.Store.KVUsage(ctx, p.Demo.ID, pl.ID); n != 0 {
		t.Errorf("%d keys left after the clear", n)
	}
	es, err := p.Store.AuditLog(ctx, p.Demo.ID, model.AuditFilter{Action: model.AuditPluginDataClear, Limit: 5})
	testdb.Must(t, err, "audit")
	var after map[string]any
	if len(es) != 1 || json.Unmarshal([]byte(es[0].AfterJSON), &after) != nil || after["keys_erased"] != float64(keys) || es[0].ActorLabel != "gestor@demo.portico.test" {
		t.Errorf("clear audit: %+v", es)
	}
	// The audit page names both actions in words.
	audit := string(g.get("/admin/audit?action="+model.AuditPluginDataClear, "pt-BR").Body)
	if !strings.Contains(audit, catalogText(t, cat, "pt-BR", "audit.action.plugin.data.clear")) || !strings.Contains(audit, catalogText(t, cat, "pt-BR", "audit.field.keys_erased")) {
		t.Errorf("the audit page does not show the clear in words")
	}

	// The audit page shows a deleted key as the data page does: quoted
	// when a character would not show as itself (a bidirectional override
	// would reorder the cell), and a key named like the redaction marker
	// as it is, not as a redacted secret.
	for _, k := range []string{"\u202eevil", model.Redacted} {
		testdb.Must(t, p.Store.KVSet(ctx, p.Demo.ID, pl.ID, k, []byte("1")), "set %q", k)
		testdb.Must(t, p.Store.KVRemove(ctx, p.Demo.ID, pl.ID, pl.Slug, k, model.SystemActor("test")), "remove %q", k)
	}
	audit = html.UnescapeString(string(g.get("/admin/audit?action="+model.AuditPluginDataDelete, "pt-BR").Body))
	if strings.Contains(audit, "\u202e") || !strings.Contains(audit, `"\u202eevil"`) || !strings.Contains(audit, "<td>"+model.Redacted+"</td>") ||
		strings.Contains(audit, catalogText(t, cat, "pt-BR", "admin.audit.redacted")) {
		t.Errorf("the audit page shows the deleted keys unsafely:\n%.3000s", audit[strings.Index(audit, "<main"):])
	}

	// Every language renders the pages without a missing message.
	testdb.Must(t, p.Store.KVSet(ctx, p.Demo.ID, pl.ID, "tab\tagain", []byte("1")), "set")
	missing := p.Server.Env.Catalog.Missing()
	for _, lang := range model.SupportedLocales {
		for _, path := range []string{base, base + "/clear", base + "?prefix=x"} {
			if r := g.get(path, lang); r.Status != 200 || !strings.Contains(string(r.Body), `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: %d", lang, path, r.Status)
			}
		}
	}
	if n := p.Server.Env.Catalog.Missing(); n != missing {
		t.Errorf("the data pages looked up %d missing messages", n-missing)
	}
}
