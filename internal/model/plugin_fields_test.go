package model

import (
	"reflect"
	"slices"
	"testing"
)

// TestPluginFieldsRoundTrip fills every editable field with a non-zero
// value, sets it on a plugin and reads it back: a field added to
// PluginFields but forgotten in Fields or SetFields fails here.
func TestPluginFieldsRoundTrip(t *testing.T) {
	var f PluginFields
	v := reflect.ValueOf(&f).Elem()
	for _, nf := range pluginFieldIndex() {
		fv := v.FieldByIndex(nf.index)
		switch fv.Kind() {
		case reflect.String:
			fv.SetString("x-" + nf.name)
		case reflect.Bool:
			fv.SetBool(true)
		case reflect.Int:
			fv.SetInt(int64(len(nf.name)))
		case reflect.Slice:
			fv.Set(reflect.ValueOf(StringList{nf.name}))
		case reflect.Map:
			fv.Set(reflect.ValueOf(Titles{"es": "x-" + nf.name}))
		default:
			t.Fatalf("field %s has kind %s: teach this test", nf.name, fv.Kind())
		}
	}
	var p Plugin
	p.SetFields(f)
	if got := p.Fields(); !reflect.DeepEqual(got, f) {
		t.Fatalf("round trip lost fields:\n got %+v\nwant %+v", got, f)
	}
	snap := f.Snapshot()
	names := PluginFieldNames()
	if len(snap) != len(names) {
		t.Fatalf("snapshot has %d keys, %d names", len(snap), len(names))
	}
	for _, n := range names {
		if _, ok := snap[n]; !ok || n == "" {
			t.Fatalf("snapshot lacks %q", n)
		}
	}
	if !slices.Contains(names, "launch_method") || names[0] != "slug" {
		t.Fatalf("names %v", names)
	}
	var g PluginFields
	g.Copy(&f, "title", "grants")
	if g.Title != f.Title || !slices.Equal(g.Grants, f.Grants) || g.Name != "" {
		t.Fatalf("copy: %+v", g)
	}
}
