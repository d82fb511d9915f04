package service

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/portico-dev/portico/internal/model"
)

// TestPluginInputDecodesLikeAStruct: the partial plugin input decodes as
// strictly as a struct of pointers did (unknown fields, wrong types and
// non-objects are errors naming what is wrong, null leaves a field
// unset), and reports the fields it sets in model.PluginFields order.
func TestPluginInputDecodesLikeAStruct(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		changed   []string
		unknown   bool
		typeField string // "" with typeErr: the whole value
		typeErr   bool
	}{
		{name: "some fields", body: `{"title":"T","width":800,"version":3,"name":"N"}`, changed: []string{"name", "title", "width"}},
		{name: "null is unset", body: `{"title":null,"active":false}`, changed: []string{"active"}},
		{name: "case-insensitive like encoding/json", body: `{"Title":"T"}`, changed: []string{"title"}},
		{name: "access fields", body: `{"user_fields":["name"],"launch_method":"get"}`, changed: []string{"user_fields", "launch_method"}},
		{name: "unknown field", body: `{"title":"T","client_id":"x"}`, unknown: true},
		{name: "wrong type", body: `{"width":"wide"}`, typeErr: true, typeField: "width"},
		{name: "wrong list element", body: `{"allowed_hosts":[1]}`, typeErr: true, typeField: "allowed_hosts"},
		{name: "version wrong type", body: `{"version":"3"}`, typeErr: true, typeField: "version"},
		{name: "array", body: `[1]`, typeErr: true},
		{name: "null", body: `null`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var in PluginInput
			err := json.Unmarshal([]byte(tc.body), &in)
			var te *json.UnmarshalTypeError
			switch {
			case tc.unknown:
				if err == nil || err.Error() != `json: unknown field "client_id"` {
					t.Fatalf("want an unknown field error, got %v", err)
				}
			case tc.typeErr:
				if !errors.As(err, &te) || te.Field != tc.typeField {
					t.Fatalf("want a type error on %q, got %#v", tc.typeField, err)
				}
				_ = te.Error() // must not panic
			case err != nil:
				t.Fatal(err)
			case !slices.Equal(in.Changed(), tc.changed):
				t.Fatalf("changed %v, want %v", in.Changed(), tc.changed)
			}
		})
	}
}

// TestPluginInputApply: only the set fields change; dimensions without a
// named size make it custom.
func TestPluginInputApply(t *testing.T) {
	p := &model.Plugin{Slug: "a", Title: "Old", Size: model.SizeMedio, TimeoutMS: 500}
	var in PluginInput
	if err := json.Unmarshal([]byte(`{"title":"New","width":800,"height":600}`), &in); err != nil {
		t.Fatal(err)
	}
	in.apply(p)
	if p.Title != "New" || p.Size != model.SizeCustom || p.Width != 800 || p.Height != 600 || p.TimeoutMS != 500 || p.Slug != "a" {
		t.Fatalf("applied %+v", p)
	}
	in = NewPluginInput(model.PluginFields{Size: model.SizeGrande, Width: 1}, "size", "width")
	in.apply(p)
	if p.Size != model.SizeGrande || p.Width != 1 {
		t.Fatalf("a named size with a width: %+v", p)
	}
}
