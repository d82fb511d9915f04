package model

import (
	"reflect"
	"slices"
	"strings"
	"sync"
)

// PluginFields are the fields of a plugin a gestor edits, under the names
// the admin API, the audit log and the admin UI's form use. It is the one
// list of them: the admin service's partial input, the API's plugin view,
// the audit snapshot (storage.PluginSnapshot) and the UI's form all derive
// from it. What the host issues (client ID, versions, module versions) and
// the private-network switch, which only the access route sets, are not
// here.
type PluginFields struct {
	Slug          string     `json:"slug"`
	Name          string     `json:"name"`
	Title         string     `json:"title"`
	Titles        Titles     `json:"titles"`
	Type          PluginType `json:"type"`
	URL           string     `json:"url"`
	Icon          string     `json:"icon"`
	Active        bool       `json:"active"`
	ShowInPortal  bool       `json:"show_in_portal"`
	ShowInManager bool       `json:"show_in_manager"`
	VisibleTo     Visibility `json:"visible_to"`
	AuthType      AuthType   `json:"auth_type"`
	Size          Size       `json:"size"`
	Width         int        `json:"width"`
	Height        int        `json:"height"`
	Position      int        `json:"position"`
	AllowedHosts  StringList `json:"allowed_hosts"`
	TimeoutMS     int        `json:"timeout_ms"`
	MemoryMB      int        `json:"memory_mb"`
	HomeCard      bool       `json:"home_card"`
	PluginAccess
}

// PluginAccess are the editable fields saying what a plugin may see and
// how it is launched (also editable on their own on the access route).
type PluginAccess struct {
	// UserFields are the profile fields (AllUserFields) the launch
	// exchange and a wasm plugin's input carry.
	UserFields StringList `json:"user_fields"`
	// Grants are the host-function families (AllGrants) a wasm plugin may
	// call; an iframe plugin ignores them.
	Grants StringList `json:"grants"`
	// TokenTTLSeconds is the launch token's lifetime; 0 is the default.
	TokenTTLSeconds int `json:"token_ttl_seconds"`
	// LaunchMethod is post or get; "" is the default, post.
	LaunchMethod LaunchMethod `json:"launch_method"`
}

// Fields returns p's editable fields; the lists are copies.
func (p *Plugin) Fields() PluginFields {
	return PluginFields{
		Slug: p.Slug, Name: p.Name, Title: p.Title, Titles: p.Titles.Clone(), Type: p.Type, URL: p.URL, Icon: p.Icon,
		Active: p.Active, ShowInPortal: p.ShowInPortal, ShowInManager: p.ShowInManager,
		VisibleTo: p.VisibleTo, AuthType: p.AuthType, Size: p.Size, Width: p.Width, Height: p.Height,
		Position: p.Position, AllowedHosts: slices.Clone(p.AllowedHosts), TimeoutMS: p.TimeoutMS, MemoryMB: p.MemoryMB,
		HomeCard: p.HomeCard,
		PluginAccess: PluginAccess{UserFields: slices.Clone(p.UserFields), Grants: slices.Clone(p.Grants),
			TokenTTLSeconds: p.TokenTTLSeconds, LaunchMethod: p.LaunchMethod},
	}
}

// SetFields sets p's editable fields to f.
func (p *Plugin) SetFields(f PluginFields) {
	p.Slug, p.Name, p.Title, p.Titles, p.Type, p.URL, p.Icon = f.Slug, f.Name, f.Title, f.Titles, f.Type, f.URL, f.Icon
	p.Active, p.ShowInPortal, p.ShowInManager = f.Active, f.ShowInPortal, f.ShowInManager
	p.VisibleTo, p.AuthType, p.Size, p.Width, p.Height = f.VisibleTo, f.AuthType, f.Size, f.Width, f.Height
	p.Position, p.AllowedHosts, p.TimeoutMS, p.MemoryMB, p.HomeCard = f.Position, f.AllowedHosts, f.TimeoutMS, f.MemoryMB, f.HomeCard
	p.UserFields, p.Grants, p.TokenTTLSeconds, p.LaunchMethod = f.UserFields, f.Grants, f.TokenTTLSeconds, f.LaunchMethod
}

// pluginFieldIndex maps each JSON name of PluginFields to its field, in
// declaration order (embedded structs flattened).
var pluginFieldIndex = sync.OnceValue(func() []namedField {
	return jsonFields(reflect.TypeFor[PluginFields](), nil)
})

type namedField struct {
	name  string
	index []int
}

func jsonFields(t reflect.Type, prefix []int) []namedField {
	var out []namedField
	for i := range t.NumField() {
		f := t.Field(i)
		idx := append(slices.Clone(prefix), i)
		if f.Anonymous {
			out = append(out, jsonFields(f.Type, idx)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, namedField{name: name, index: idx})
	}
	return out
}

// PluginFieldNames returns the JSON names of PluginFields in declaration
// order.
func PluginFieldNames() []string {
	fs := pluginFieldIndex()
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.name
	}
	return out
}

// Snapshot returns f as a map from JSON name to value, the shape audit
// entries record and changed-field lists compare.
func (f PluginFields) Snapshot() map[string]any {
	v := reflect.ValueOf(f)
	m := make(map[string]any, len(pluginFieldIndex()))
	for _, nf := range pluginFieldIndex() {
		m[nf.name] = v.FieldByIndex(nf.index).Interface()
	}
	return m
}

// Field returns a pointer to the field of f named name (its JSON name,
// matched as encoding/json does: exactly, else case-insensitively), or
// nil when PluginFields has no such field.
func (f *PluginFields) Field(name string) (string, any) {
	v := reflect.ValueOf(f).Elem()
	fs := pluginFieldIndex()
	for _, nf := range fs {
		if nf.name == name {
			return nf.name, v.FieldByIndex(nf.index).Addr().Interface()
		}
	}
	for _, nf := range fs {
		if strings.EqualFold(nf.name, name) {
			return nf.name, v.FieldByIndex(nf.index).Addr().Interface()
		}
	}
	return "", nil
}

// Copy sets the fields of f named by names (JSON names) to their values in
// src; a name PluginFields does not have is ignored.
func (f *PluginFields) Copy(src *PluginFields, names ...string) {
	dst, from := reflect.ValueOf(f).Elem(), reflect.ValueOf(src).Elem()
	for _, nf := range pluginFieldIndex() {
		if slices.Contains(names, nf.name) {
			dst.FieldByIndex(nf.index).Set(from.FieldByIndex(nf.index))
		}
	}
}
