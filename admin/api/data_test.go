package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// apiOddKeys are keys a plugin may choose that a URL could get wrong.
var apiOddKeys = []string{
	"a/b", "a/b/c", "100%", "%2F", "%", "_", "com espaço", " lead", "trail ", "tab\there", "line\nbreak", "\x01ctl",
	".", "..", "?q=1#frag", "+plus", "ção", "日本語", "😀", "\u202eevil", "UPPER%C3%A7", strings.Repeat("k", storage.KVMaxKey),
}

// dataBody is GET …/data's answer.
type dataBody struct {
	Plugin string `json:"plugin"`
	Usage  struct {
		Keys     int64 `json:"keys"`
		Bytes    int64 `json:"bytes"`
		MaxKeys  int64 `json:"max_keys"`
		MaxBytes int64 `json:"max_bytes"`
	} `json:"usage"`
	Keys []struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		UpdatedAt string `json:"updated_at"`
	} `json:"keys"`
	NextAfter *string `json:"next_after"`
}

// TestAdminPluginData: through the admin API a wasm plugin's usage and
// keys are listed (never a value), page by page and by prefix, one key
// with any character is deleted by its percent-encoded name, and the
// whole store is cleared only when confirmed; each deletion is audited;
// the credentials and the CSRF header are required as on every route; an
// iframe plugin has no data (404 plugin_no_data), an unknown plugin is
// 404 plugin_not_found.
func TestAdminPluginData(t *testing.T) {
	f := start(t, "sqlite")
	ctx := context.Background()
	newWasmPlugin(t, f, "contador")
	p, err := f.p.Store.PluginBySlug(ctx, f.p.Demo.ID, "contador")
	testdb.Must(t, err, "load plugin")
	const secretValue = "valor-guardado-do-cliente"
	var wantBytes int64
	for _, k := range apiOddKeys {
		testdb.Must(t, f.p.Store.KVSet(ctx, f.p.Demo.ID, p.ID, k, []byte(secretValue)), "set %q", k)
		wantBytes += int64(len(k) + len(secretValue))
	}
	want := slices.Clone(apiOddKeys)
	slices.Sort(want)
	base := adminPrefix + "/plugins/contador/data"
	get := func(query string) dataBody {
		t.Helper()
		r := f.byKey.Do("GET", base+query, nil)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", query, r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), secretValue) || strings.Contains(string(r.Body), `"value"`) {
			t.Fatalf("GET %s shows a value: %s", query, r.Body)
		}
		var d dataBody
		r.JSON(t, &d)
		return d
	}
	keysOf := func(d dataBody) []string {
		out := []string{}
		for _, k := range d.Keys {
			out = append(out, k.Key)
		}
		return out
	}

	// The first page, with the usage and the limits.
	d := get("")
	if d.Plugin != "contador" || d.Usage.Keys != int64(len(apiOddKeys)) || d.Usage.Bytes != wantBytes ||
		d.Usage.MaxKeys != storage.KVMaxKeys || d.Usage.MaxBytes != storage.KVMaxBytes {
		t.Errorf("usage %+v, want %d keys, %d bytes and the limits", d.Usage, len(apiOddKeys), wantBytes)
	}
	if got := keysOf(d); !slices.Equal(got, want) || d.NextAfter != nil {
		t.Errorf("first page %q (next %v), want every key in byte order:\n%q", got, d.NextAfter, want)
	}
	for _, k := range d.Keys {
		if k.Size != int64(len(secretValue)) || !strings.HasSuffix(k.UpdatedAt, "Z") {
			t.Errorf("%q: size %d, updated at %q", k.Key, k.Size, k.UpdatedAt)
		}
	}
	// Page by page, three at a time.
	var paged []string
	q := "?limit=3"
	for range len(want) {
		d := get(q)
		paged = append(paged, keysOf(d)...)
		if d.NextAfter == nil {
			break
		}
		q = "?limit=3&after=" + url.QueryEscape(*d.NextAfter)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged %q, want %q", paged, want)
	}
	// By prefix, taken literally and not trimmed.
	for prefix, wantKeys := range map[string][]string{
		"a/": {"a/b", "a/b/c"}, "%": {"%", "%2F"}, "_": {"_"}, " ": {" lead"}, "tab\t": {"tab\there"}, "ç": {"ção"}, "A": {},
	} {
		if got := keysOf(get("?prefix=" + url.QueryEscape(prefix))); !slices.Equal(got, wantKeys) {
			t.Errorf("prefix %q: %q, want %q", prefix, got, wantKeys)
		}
	}
	// Parameters that cannot be used.
	for _, tc := range []struct{ query, field string }{
		{"?after=not*a*cursor", "after"}, {"?after=YQ%3D%3D", "after"}, {"?prefix=a%00b", "prefix"}, {"?prefix=" + strings.Repeat("p", 257), "prefix"},
		{"?limit=0", "limit"}, {"?limit=101", "limit"}, {"?limit=dez", "limit"},
	} {
		r := f.byKey.Do("GET", base+tc.query, nil)
		code, _, fields := errorOf(t, r)
		if r.Status != 400 || code != "invalid_parameter" || fields[tc.field] == "" {
			t.Errorf("GET %s: %d %s, want 400 invalid_parameter naming %s", tc.query, r.Status, r.Body, tc.field)
		}
	}

	// Who may call it: as every admin route.
	cliente, _ := f.session(t, "cliente@demo.portico.test")
	noCSRF, _ := f.session(t, "gestor@demo.portico.test")
	portalKey, _ := f.newKey(t, f.p.Demo.ID, model.ScopePortalSessions)
	for _, tc := range []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"anonymous", "GET", base, 401, "unauthenticated"},
		{"anonymous", "DELETE", base + "/a%2Fb", 401, "unauthenticated"},
		{"cliente", "GET", base, 403, "gestor_only"},
		{"portal key", "GET", base, 403, "missing_scope"},
		{"portal key", "DELETE", base + "?confirm=true", 403, "missing_scope"},
		{"gestor without csrf", "DELETE", base + "/a%2Fb", 403, "csrf"},
		{"gestor without csrf", "DELETE", base + "?confirm=true", 403, "csrf"},
	} {
		c := map[string]*servertest.Client{"anonymous": f.p.NewClient(t, ""), "cliente": cliente, "portal key": f.keyClient(t, "", portalKey),
			"gestor without csrf": noCSRF}[tc.name]
		if r := c.Do(tc.method, tc.path, nil); r.Status != tc.status || r.ErrorCode() != tc.code {
			t.Errorf("%s %s as %s: %d %s, want %d %s", tc.method, tc.path, tc.name, r.Status, r.Body, tc.status, tc.code)
		}
	}
	if d := get(""); len(d.Keys) != len(apiOddKeys) {
		t.Fatalf("a refused call deleted keys: %d left", len(d.Keys))
	}

	// Not a wasm plugin, no plugin, another tenant's plugin.
	for _, tc := range []struct{ method, path, code string }{
		{"GET", "/plugins/documentos/data", "plugin_no_data"},
		{"DELETE", "/plugins/documentos/data?confirm=true", "plugin_no_data"},
		{"DELETE", "/plugins/documentos/data/a%2Fb", "plugin_no_data"},
		{"GET", "/plugins/nao-existe/data", "plugin_not_found"},
		{"DELETE", "/plugins/nao-existe/data/x", "plugin_not_found"},
		{"GET", "/plugins/" + f.p.OtherPlugins[0] + "/data", "plugin_not_found"},
		{"GET", "/plugins/Nao_Slug/data", "plugin_not_found"},
	} {
		if r := f.byKey.Do(tc.method, adminPrefix+tc.path, nil); r.Status != 404 || r.ErrorCode() != tc.code {
			t.Errorf("%s %s: %d %s, want 404 %s", tc.method, tc.path, r.Status, r.Body, tc.code)
		}
	}

	// Each key, deleted by its percent-encoded name, the gestor's session
	// and the key taking turns.
	auditBefore := len(auditEntries(t, f, model.AuditPluginDataDelete))
	for i, k := range apiOddKeys {
		c := f.byKey
		if i%2 == 1 {
			c = f.gestor
		}
		path := base + "/" + url.PathEscape(k)
		if k == ".." {
			path = base + "/%2E%2E" // as a browser or curl must send it
		}
		if r := c.Do("DELETE", path, nil); r.Status != 204 {
			t.Errorf("DELETE %q as %s: %d %s", k, path, r.Status, r.Body)
			continue
		}
		if _, found, _ := f.p.Store.KVGet(ctx, f.p.Demo.ID, p.ID, k); found {
			t.Errorf("%q is still stored", k)
		}
		if r := c.Do("DELETE", path, nil); r.Status != 404 || r.ErrorCode() != "key_not_found" {
			t.Errorf("DELETE %q again: %d %s, want 404 key_not_found", k, r.Status, r.Body)
		}
	}
	es := auditEntries(t, f, model.AuditPluginDataDelete)
	if len(es)-auditBefore != len(apiOddKeys) {
		t.Errorf("%d deletions audited, want %d", len(es)-auditBefore, len(apiOddKeys))
	}
	var last map[string]any
	testdb.Must(t, json.Unmarshal([]byte(es[0].BeforeJSON), &last), "decode audit")
	if last["data_key"] != apiOddKeys[len(apiOddKeys)-1] || es[0].ActorLabel != "gestor@demo.portico.test" || es[0].TargetID != "contador" {
		t.Errorf("the last deletion's audit entry: %+v", es[0])
	}
	// Segments that name no key.
	for _, seg := range []string{"%E0%A4", "%00", "%FF", "a%00b", url.PathEscape(strings.Repeat("k", storage.KVMaxKey+1))} {
		if r := f.byKey.Do("DELETE", base+"/"+seg, nil); r.Status != 404 || r.ErrorCode() != "key_not_found" {
			t.Errorf("DELETE %s: %d %s, want 404 key_not_found", seg, r.Status, r.Body)
		}
	}

	// Clearing: refused without a confirmation (an empty key's DELETE of
	// …/data/ reaches this route too), then done, and audited with the count.
	for i := range 120 {
		testdb.Must(t, f.p.Store.KVSet(ctx, f.p.Demo.ID, p.ID, "visitas:"+strconv.Itoa(i), []byte("1")), "set key %d", i)
	}
	for _, tc := range []struct {
		path   string
		body   any
		status int
		code   string
	}{
		{base, nil, 422, "validation_failed"},
		{base + "/", nil, 422, "validation_failed"},
		{base + "?confirm=false", nil, 422, "validation_failed"},
		{base, map[string]any{"confirm": false}, 422, "validation_failed"},
		{base + "?confirm=talvez", nil, 400, "invalid_parameter"},
		{base, map[string]any{"confirm": "sim"}, 400, "invalid_json"},
		{base, map[string]any{"confirm_all": true}, 400, "unknown_field"},
	} {
		if r := f.gestor.Do("DELETE", tc.path, tc.body); r.Status != tc.status || r.ErrorCode() != tc.code {
			t.Errorf("DELETE %s %v: %d %s, want %d %s", tc.path, tc.body, r.Status, r.Body, tc.status, tc.code)
		}
	}
	if n, _, _ := f.p.Store.KVUsage(ctx, f.p.Demo.ID, p.ID); n != 120 {
		t.Fatalf("an unconfirmed clear left %d keys of 120", n)
	}
	r := f.byKey.Do("DELETE", base+"?confirm=true", nil)
	if r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"deleted_keys":120}` {
		t.Fatalf("clear: %d %s", r.Status, r.Body)
	}
	if d := get(""); d.Usage.Keys != 0 || d.Usage.Bytes != 0 || len(d.Keys) != 0 || d.NextAfter != nil {
		t.Errorf("after the clear: %+v", d)
	}
	if r := f.gestor.Do("DELETE", base, map[string]any{"confirm": true}); r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"deleted_keys":0}` {
		t.Errorf("clear of an empty store: %d %s", r.Status, r.Body)
	}
	cleared := auditEntries(t, f, model.AuditPluginDataClear)
	if len(cleared) != 2 || cleared[1].AfterJSON != `{"keys_erased":120}` || cleared[1].ActorType != "api_key" || cleared[0].ActorLabel != "gestor@demo.portico.test" {
		t.Errorf("clear audit entries: %+v", cleared)
	}
}

// auditEntries lists the demo tenant's audit entries of action, newest first.
func auditEntries(t *testing.T, f *fixture, action string) []model.AuditEntry {
	t.Helper()
	es, err := f.p.Store.AuditLog(context.Background(), f.p.Demo.ID, model.AuditFilter{Action: action, Limit: 200})
	testdb.Must(t, err, "audit log")
	return es
}
