package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/sdk/abi"
)

// oddKeys are keys a plugin may choose that a listing, a URL or a page
// could get wrong: separators, percent signs and LIKE's wildcards,
// spaces, control characters, dot segments, case, accents composed and
// not, characters outside the BMP, and the longest key.
var oddKeys = []string{
	"a/b", "a/b/c", "100%", "%", "_", "a_c", "abc", "aBc", "ABC", "com espaço", " lead", "trail ",
	"tab\there", "line\nbreak", "\x01ctl", "\x7f", ".", "..", "?q=1#frag", "+plus", "ção", "c\u0327ao",
	"é", "日本語", "😀 emoji", "\u202eevil", strings.Repeat("k", storage.KVMaxKey),
	strings.Repeat("é", storage.KVMaxKey/2),
}

// TestKVAdminList: a plugin's keys are listed with their value's size
// and update time, in the order of their bytes on both databases, page by
// page from a cursor, filtered by a prefix taken literally (no wildcard,
// case and accents as they are), and never a key of another plugin or
// tenant.
func TestKVAdminList(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		// A PostgreSQL database created with a language's collation (as
		// initdb does from the server's locale) sorts "aBc" before "abc"
		// and punctuation its own way; the listing must keep the bytes'
		// order whatever the collation, or the same keys would list in
		// another order on each database. (Before any query: pgx's
		// prepared statements would otherwise see the column change type.)
		if st.Driver() == "postgres" {
			_, err := st.RawSQL().ExecContext(ctx, `ALTER TABLE plugin_kv ALTER COLUMN key TYPE TEXT COLLATE "pt-BR-x-icu"`)
			testdb.Must(t, err, "give the key column a linguistic collation")
		}
		a := newTenant(t, st, "lista")
		b := newTenant(t, st, "outra")
		p := newWasmPlugin(t, st, a.ID, "dados")
		sibling := newWasmPlugin(t, st, a.ID, "vizinho")
		foreign := newWasmPlugin(t, st, b.ID, "dados")
		start := time.Now().Add(-time.Minute)
		for i, k := range oddKeys {
			testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, k, []byte(strings.Repeat("v", i))), "set %q", k)
		}
		testdb.Must(t, st.KVSet(ctx, a.ID, sibling.ID, "a/vizinho", []byte("x")), "set sibling")
		testdb.Must(t, st.KVSet(ctx, b.ID, foreign.ID, "a/outra", []byte("x")), "set foreign")
		testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, "big", make([]byte, storage.KVMaxValue)), "set big")

		want := append(slices.Clone(oddKeys), "big")
		slices.Sort(want) // Go compares strings by their bytes
		size := map[string]int64{"big": storage.KVMaxValue}
		for i, k := range oddKeys {
			size[k] = int64(i)
		}

		// Page by page, three at a time: every key once, in byte order.
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > len(want) {
				t.Fatalf("the listing does not end: %q", got)
			}
			page, err := st.KVKeys(ctx, a.ID, p.ID, "", after, 3)
			testdb.Must(t, err, "list after %q", after)
			for _, k := range page {
				got = append(got, k.Key)
				if k.Size != size[k.Key] {
					t.Errorf("%q: size %d, want %d", k.Key, k.Size, size[k.Key])
				}
				if k.UpdatedAt.Before(start) || k.UpdatedAt.After(time.Now().Add(time.Minute)) {
					t.Errorf("%q: updated at %v", k.Key, k.UpdatedAt)
				}
			}
			if len(page) < 3 {
				break
			}
			after = page[len(page)-1].Key
		}
		if !slices.Equal(got, want) {
			t.Errorf("listed\n%q\nwant\n%q", got, want)
		}
		all, err := st.KVKeys(ctx, a.ID, p.ID, "", "", storage.MaxKVPage)
		testdb.Must(t, err, "list all")
		if len(all) != len(want) {
			t.Errorf("one page of %d holds %d keys, want %d", storage.MaxKVPage, len(all), len(want))
		}

		keys := func(prefix, after string, limit int) []string {
			t.Helper()
			page, err := st.KVKeys(ctx, a.ID, p.ID, prefix, after, limit)
			testdb.Must(t, err, "list prefix %q after %q", prefix, after)
			out := []string{}
			for _, k := range page {
				out = append(out, k.Key)
			}
			return out
		}
		for _, tc := range []struct {
			prefix, after string
			want          []string
		}{
			{"a", "", []string{"a/b", "a/b/c", "aBc", "a_c", "abc"}},
			{"a/", "", []string{"a/b", "a/b/c"}},
			{"a", "a/b/c", []string{"aBc", "a_c", "abc"}},
			{"A", "", []string{"ABC"}},
			{"%", "", []string{"%"}},
			{"_", "", []string{"_"}},
			{"a_", "", []string{"a_c"}},
			{"ç", "", []string{"ção"}},
			{"c\u0327", "", []string{"c\u0327ao"}},
			{"😀", "", []string{"😀 emoji"}},
			{" ", "", []string{" lead"}},
			{"tab\t", "", []string{"tab\there"}},
			{"kk", "", []string{strings.Repeat("k", storage.KVMaxKey)}},
			{"nada", "", []string{}},
			{"a/vizinho", "", []string{}}, // the sibling's key
			{"a/outra", "", []string{}},   // the other tenant's key
			{"", "\u202eevil", []string{"日本語", "😀 emoji"}},
			{"a\x00", "", []string{}},  // never a key
			{"", "a\x00", []string{}},  // never a key
			{"\xff", "", []string{}},   // not UTF-8
			{"", "\xffxx", []string{}}, // not UTF-8
		} {
			if got := keys(tc.prefix, tc.after, storage.MaxKVPage); !slices.Equal(got, tc.want) {
				t.Errorf("prefix %q after %q: %q, want %q", tc.prefix, tc.after, got, tc.want)
			}
		}
		if got := keys("a", "", 2); !slices.Equal(got, []string{"a/b", "a/b/c"}) {
			t.Errorf("two keys starting with a: %q", got)
		}

		// The other plugin and the other tenant's plugin see only theirs.
		for _, tc := range []struct{ tenant, plugin, key string }{{a.ID, sibling.ID, "a/vizinho"}, {b.ID, foreign.ID, "a/outra"}, {b.ID, p.ID, ""}} {
			page, err := st.KVKeys(ctx, tc.tenant, tc.plugin, "", "", storage.MaxKVPage)
			testdb.Must(t, err, "list %s", tc.plugin)
			if (tc.key == "" && len(page) != 0) || (tc.key != "" && (len(page) != 1 || page[0].Key != tc.key)) {
				t.Errorf("tenant %s plugin %s lists %+v, want %q", tc.tenant, tc.plugin, page, tc.key)
			}
		}
	})
}

// auditOf returns the tenant's audit entries of action, newest first.
func auditOf(t *testing.T, st *storage.Store, tenantID, action string) []model.AuditEntry {
	t.Helper()
	es, err := st.AuditLog(context.Background(), tenantID, model.AuditFilter{Action: action, Limit: 50})
	testdb.Must(t, err, "audit log")
	return es
}

// TestKVAdminRemove: one key goes, with its audit entry (its name and
// size, never its value), whatever its characters; an absent key, a key
// that cannot be one, or a key of another plugin or tenant is not found,
// changes nothing and audits nothing.
func TestKVAdminRemove(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "remove")
		b := newTenant(t, st, "outra")
		p := newWasmPlugin(t, st, a.ID, "dados")
		sibling := newWasmPlugin(t, st, a.ID, "vizinho")
		actor := model.Actor{Type: "user", ID: "u1", Label: "gestora@exemplo.com", IP: "203.0.113.9"}
		for _, k := range oddKeys {
			testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, k, []byte("segredo-do-cliente")), "set %q", k)
		}
		testdb.Must(t, st.KVSet(ctx, a.ID, sibling.ID, "a/b", []byte("x")), "set sibling")

		for _, k := range oddKeys {
			testdb.Must(t, st.KVRemove(ctx, a.ID, p.ID, "dados", k, actor), "remove %q", k)
			if _, found, err := st.KVGet(ctx, a.ID, p.ID, k); found || err != nil {
				t.Errorf("%q is still there (%v)", k, err)
			}
		}
		if n, bytes, err := st.KVUsage(ctx, a.ID, p.ID); n != 0 || bytes != 0 || err != nil {
			t.Errorf("usage after removing every key: %d keys, %d bytes, %v", n, bytes, err)
		}
		es := auditOf(t, st, a.ID, model.AuditPluginDataDelete)
		if len(es) != len(oddKeys) {
			t.Fatalf("%d audit entries, want %d", len(es), len(oddKeys))
		}
		e := es[0] // the newest: the last key removed
		var before map[string]any
		testdb.Must(t, json.Unmarshal([]byte(e.BeforeJSON), &before), "decode before")
		if e.TargetType != "plugin" || e.TargetID != "dados" || e.AfterJSON != "" || e.ActorLabel != actor.Label || e.IP != actor.IP ||
			before["data_key"] != oddKeys[len(oddKeys)-1] || before["size_bytes"] != float64(len("segredo-do-cliente")) {
			t.Errorf("audit entry %+v", e)
		}
		for _, e := range es {
			if strings.Contains(e.BeforeJSON+e.AfterJSON, "segredo-do-cliente") {
				t.Errorf("the audit log holds a value: %s", e.BeforeJSON)
			}
		}

		for _, tc := range []struct{ tenant, plugin, key string }{
			{a.ID, p.ID, "a/b"},           // removed already
			{a.ID, p.ID, "nunca"},         // never there
			{a.ID, p.ID, ""},              // not a key
			{a.ID, p.ID, "a\x00b"},        // not a key
			{a.ID, p.ID, "\xff"},          // not a key
			{b.ID, sibling.ID, "a/b"},     // the other tenant names a's plugin
			{a.ID, "nao-e-plugin", "a/b"}, // no plugin
		} {
			if err := st.KVRemove(ctx, tc.tenant, tc.plugin, "dados", tc.key, actor); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("remove %q of %s/%s: %v, want not found", tc.key, tc.tenant, tc.plugin, err)
			}
		}
		if _, found, _ := st.KVGet(ctx, a.ID, sibling.ID, "a/b"); !found {
			t.Errorf("the sibling plugin lost its key")
		}
		if n := len(auditOf(t, st, a.ID, model.AuditPluginDataDelete)); n != len(oddKeys) {
			t.Errorf("refused removals were audited: %d entries", n)
		}
		if n := len(auditOf(t, st, b.ID, model.AuditPluginDataDelete)); n != 0 {
			t.Errorf("the other tenant has %d entries", n)
		}
	})
}

// TestKVAdminClear: a plugin at its key quota, whose writes fail, is
// emptied by one clear that returns and audits how many keys went; it can
// write again at once; its neighbours keep theirs; a second clear removes
// nothing and says so.
func TestKVAdminClear(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "limpa")
		b := newTenant(t, st, "outra")
		p := newWasmPlugin(t, st, a.ID, "dados")
		sibling := newWasmPlugin(t, st, a.ID, "vizinho")
		foreign := newWasmPlugin(t, st, b.ID, "dados")
		actor := model.Actor{Type: "api_key", ID: "k1", Label: "erp"}
		testdb.Must(t, st.SeedKVForTest(ctx, a.ID, p.ID, storage.KVMaxKeys), "fill the quota")
		if err := st.KVSet(ctx, a.ID, p.ID, "mais-uma", []byte("x")); !errors.Is(err, storage.ErrKVQuota) {
			t.Fatalf("a write past the quota: %v, want ErrKVQuota", err)
		}
		testdb.Must(t, st.KVSet(ctx, a.ID, sibling.ID, "fica", []byte("x")), "set sibling")
		testdb.Must(t, st.KVSet(ctx, b.ID, foreign.ID, "fica", []byte("x")), "set foreign")

		n, err := st.KVClear(ctx, a.ID, p.ID, "dados", actor)
		if err != nil || n != storage.KVMaxKeys {
			t.Fatalf("clear = %d, %v; want %d", n, err, storage.KVMaxKeys)
		}
		if keys, bytes, err := st.KVUsage(ctx, a.ID, p.ID); keys != 0 || bytes != 0 || err != nil {
			t.Errorf("usage after the clear: %d keys, %d bytes, %v", keys, bytes, err)
		}
		testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, "mais-uma", []byte("x")), "write after the clear")
		for _, tc := range []struct{ tenant, plugin string }{{a.ID, sibling.ID}, {b.ID, foreign.ID}} {
			if _, found, _ := st.KVGet(ctx, tc.tenant, tc.plugin, "fica"); !found {
				t.Errorf("plugin %s lost its key", tc.plugin)
			}
		}
		es := auditOf(t, st, a.ID, model.AuditPluginDataClear)
		if len(es) != 1 || es[0].TargetID != "dados" || es[0].BeforeJSON != "" || es[0].AfterJSON != `{"keys_erased":10000}` || es[0].ActorLabel != "erp" {
			t.Fatalf("audit entries %+v", es)
		}

		if n, err := st.KVClear(ctx, a.ID, p.ID, "dados", actor); n != 1 || err != nil {
			t.Errorf("second clear = %d, %v; want 1 (the key written since)", n, err)
		}
		if n, err := st.KVClear(ctx, a.ID, p.ID, "dados", actor); n != 0 || err != nil {
			t.Errorf("clear of an empty store = %d, %v", n, err)
		}
		if es := auditOf(t, st, a.ID, model.AuditPluginDataClear); len(es) != 3 || es[0].AfterJSON != `{"keys_erased":0}` {
			t.Errorf("audit entries after three clears: %+v", es)
		}
		// Another tenant naming a's plugin clears nothing.
		testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, "de-novo", []byte("x")), "set again")
		if n, err := st.KVClear(ctx, b.ID, p.ID, "dados", actor); n != 0 || err != nil {
			t.Errorf("the other tenant's clear of a's plugin = %d, %v", n, err)
		}
		if _, found, _ := st.KVGet(ctx, a.ID, p.ID, "de-novo"); !found {
			t.Errorf("the other tenant cleared a's plugin")
		}
	})
}

// TestKVAdminOtherNodeHints: two stores on one database play two nodes.
// A node that wrote counters holds their values as hints; after the other
// node removes one key or clears the store, the first node's next updates
// start from the database (1, not the hint + 1) and its reads find
// nothing. The node that clears forgets its own hints at once, so its next
// update spends no statement on a swap that cannot succeed.
func TestKVAdminOtherNodeHints(t *testing.T) {
	forTwoNodes(t, func(t *testing.T, a, b *storage.Store, tenantID, pluginID string) {
		ctx := context.Background()
		actor := model.SystemActor("test")
		incr := func(st *storage.Store, key, want string) {
			t.Helper()
			r, err := update(st, tenantID, pluginID, abi.HostRequest{Op: abi.OpKVIncr, Key: key, Delta: 1})
			if err != nil || string(r.Value) != want {
				t.Fatalf("incr %s = %q, %v; want %q", key, r.Value, err, want)
			}
		}
		gone := func(st *storage.Store, key string) {
			t.Helper()
			if v, found, err := st.KVGet(ctx, tenantID, pluginID, key); found || err != nil {
				t.Fatalf("%s reads %q (%v) after it was deleted", key, v, err)
			}
		}
		for _, k := range []string{"n", "m"} {
			incr(a, k, "1")
			incr(a, k, "2")
			incr(a, k, "3")
		}
		if n := a.KVHintedSwapsForTest(); n != 4 {
			t.Fatalf("a wrote %d times from a hint, want 4: its hints are not what this test is about", n)
		}

		// b removes one key a holds a hint of.
		testdb.Must(t, b.KVRemove(ctx, tenantID, pluginID, "contador", "n", actor), "remove n on b")
		gone(a, "n")
		misses := a.KVHintMissesForTest()
		incr(a, "n", "1")
		if got := a.KVHintMissesForTest(); got != misses+1 {
			t.Errorf("a's stale hint of n: %d refused swaps, want %d", got, misses+1)
		}

		// b clears the store; a holds the hint of m ("3").
		if n, err := b.KVClear(ctx, tenantID, pluginID, "contador", actor); n != 2 || err != nil {
			t.Fatalf("clear on b = %d, %v; want 2", n, err)
		}
		gone(a, "m")
		gone(a, "n")
		incr(a, "m", "1")
		incr(a, "m", "2")

		// a clears keys it holds live hints of (not backing off, as m's
		// and n's are after their refused swaps): no refused swap follows.
		for _, k := range []string{"p", "q"} {
			incr(a, k, "1")
			incr(a, k, "2")
		}
		if n, err := a.KVClear(ctx, tenantID, pluginID, "contador", actor); n != 3 || err != nil {
			t.Fatalf("clear on a = %d, %v; want 3 (m, p, q)", n, err)
		}
		misses = a.KVHintMissesForTest()
		incr(a, "p", "1")
		incr(a, "q", "1")
		if got := a.KVHintMissesForTest(); got != misses {
			t.Errorf("after its own clear a tried %d swaps from hints of cleared keys", got-misses)
		}
		// And the same after its own removal of one key.
		incr(a, "r", "1")
		incr(a, "r", "2")
		testdb.Must(t, a.KVRemove(ctx, tenantID, pluginID, "contador", "r", actor), "remove r on a")
		misses = a.KVHintMissesForTest()
		incr(a, "r", "1")
		if got := a.KVHintMissesForTest(); got != misses {
			t.Errorf("after its own removal a tried %d swaps from the removed key's hint", got-misses)
		}
	})
}
