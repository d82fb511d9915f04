package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// PluginInput is a create or a partial update (PATCH) of a plugin's
// editable fields (model.PluginFields): only the fields it sets (Set, or
// present and not null in the JSON it was decoded from) change.
type PluginInput struct {
	model.PluginFields
	// Version guards an update; a create takes none.
	Version *int64
	set     []string
}

// NewPluginInput returns an input setting the fields of f named by names
// (JSON names); the others are left as they are (an update) or take their
// defaults (a create).
func NewPluginInput(f model.PluginFields, names ...string) PluginInput {
	in := PluginInput{PluginFields: f}
	in.Set(names...)
	return in
}

// Set marks the named fields (JSON names) as given.
func (in *PluginInput) Set(names ...string) {
	for _, n := range names {
		if !slices.Contains(in.set, n) {
			in.set = append(in.set, n)
		}
	}
}

// Has reports whether the input sets the field name.
func (in *PluginInput) Has(name string) bool { return slices.Contains(in.set, name) }

// Changed lists the JSON names of the fields the input sets (besides
// version) in model.PluginFields order, for audit messages and PATCH
// responses.
func (in *PluginInput) Changed() []string {
	var out []string
	for _, n := range model.PluginFieldNames() {
		if in.Has(n) {
			out = append(out, n)
		}
	}
	return out
}

// UnmarshalJSON decodes a JSON object of editable fields and "version",
// as strictly as a struct with those fields would be: a field it does not
// know is an "unknown field" error, a value of the wrong type an
// *json.UnmarshalTypeError naming the field, and null leaves a field
// unset.
func (in *PluginInput) UnmarshalJSON(data []byte) error {
	*in = PluginInput{}
	return decodeObject(data, reflect.TypeFor[PluginInput](), func(key string, raw json.RawMessage) error {
		if name := "version"; strings.EqualFold(key, name) {
			return decodeField(name, raw, &in.Version)
		}
		name, ptr := in.PluginFields.Field(key)
		if ptr == nil {
			return fmt.Errorf("json: unknown field %q", key)
		}
		if string(raw) == "null" {
			return nil
		}
		if err := decodeField(name, raw, ptr); err != nil {
			return err
		}
		in.Set(name)
		return nil
	})
}

// apply sets the input's fields on p. Explicit dimensions mean a custom
// size unless a preset is named too.
func (in *PluginInput) apply(p *model.Plugin) {
	f := p.Fields()
	f.Copy(&in.PluginFields, in.set...)
	if (in.Has("width") || in.Has("height")) && !in.Has("size") {
		f.Size = model.SizeCustom
	}
	p.SetFields(f)
}

func (s *Service) rules() model.PluginRules {
	return model.PluginRules{IconExists: icon.Exists, AllowInsecureLocal: s.demo}
}

// Credentials are a token plugin's client credentials, shown once.
type Credentials struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func newCredentials(p *model.Plugin) *Credentials {
	c := &Credentials{ClientID: "pc_" + strings.ToLower(auth.NewToken()[:20]), ClientSecret: "pcs_" + auth.NewToken()}
	p.ClientID, p.ClientSecretHash = c.ClientID, auth.HashToken(c.ClientSecret)
	return c
}

// CreatePlugin validates and creates a plugin at the end of the menu unless
// a position is given. Missing flags default to: active, shown in the portal,
// not in the manager panel, size médio, authentication none. A token plugin
// gets client credentials, returned once.
func (s *Service) CreatePlugin(ctx context.Context, tenantID string, a model.Actor, in PluginInput) (*model.Plugin, *Credentials, error) {
	p := newPlugin()
	if !in.Has("position") {
		ps, err := s.store.Plugins(ctx, tenantID)
		if err != nil {
			return nil, nil, err
		}
		for _, q := range ps {
			p.Position = max(p.Position, q.Position+10)
		}
		if p.Position == 0 {
			p.Position = 10
		}
	}
	in.apply(p)
	if err := p.Validate(s.rules()); err != nil {
		return nil, nil, err
	}
	var creds *Credentials
	if p.AuthType == model.AuthToken {
		creds = newCredentials(p)
	}
	if err := s.store.CreatePlugin(ctx, tenantID, p, a); err != nil {
		if errors.Is(err, model.ErrConflict) {
			return nil, nil, ErrSlugTaken
		}
		if errors.Is(err, storage.ErrTooManyPlugins) {
			v := &model.ValidationError{}
			v.Add("slug", "too_many_plugins")
			return nil, nil, v.Err()
		}
		return nil, nil, err
	}
	return p, creds, nil
}

// newPlugin is a plugin with CreatePlugin's defaults.
func newPlugin() *model.Plugin {
	return &model.Plugin{Type: model.PluginIframe, Active: true, ShowInPortal: true, Size: model.SizeMedio, AuthType: model.AuthNone}
}

// CheckPlugin validates what CreatePlugin (slug "") or UpdatePlugin of
// slug would store, without writing anything: the UI reports every
// field's problem with it when one of the form's numbers did not parse.
func (s *Service) CheckPlugin(ctx context.Context, tenantID, slug string, in PluginInput) error {
	p := newPlugin()
	p.Position = 10
	if slug != "" {
		stored, err := s.store.PluginBySlug(ctx, tenantID, slug)
		if err != nil {
			return err
		}
		p = stored
	}
	in.apply(p)
	return p.Validate(s.rules())
}

// UpdatePlugin applies a partial update guarded by in.Version. The slug
// cannot change (links and launch tokens name it). Switching to token
// authentication issues credentials, returned once.
func (s *Service) UpdatePlugin(ctx context.Context, tenantID, slug string, a model.Actor, in PluginInput) (*model.Plugin, *Credentials, error) {
	if in.Version == nil {
		return nil, nil, ErrVersionNeeded
	}
	if in.Has("slug") && in.Slug != slug {
		v := &model.ValidationError{}
		v.Add("slug", "immutable")
		return nil, nil, v
	}
	var creds *Credentials
	p, err := s.store.UpdatePlugin(ctx, tenantID, slug, *in.Version, a, model.AuditPluginUpdate, func(p *model.Plugin) error {
		in.apply(p)
		if err := p.Validate(s.rules()); err != nil {
			return err
		}
		if p.AuthType == model.AuthToken && p.ClientID == "" {
			creds = newCredentials(p)
		}
		return nil
	})
	return p, creds, err
}

// SetActive turns a plugin on or off (the list's quick toggle).
func (s *Service) SetActive(ctx context.Context, tenantID, slug string, version int64, active bool, a model.Actor) (*model.Plugin, error) {
	in := PluginInput{Version: &version}
	in.Active = active
	in.Set("active")
	p, _, err := s.UpdatePlugin(ctx, tenantID, slug, a, in)
	return p, err
}

// Move moves a plugin one place up (delta -1) or down (+1) in the menu: the
// keyboard alternative to drag-and-drop.
func (s *Service) Move(ctx context.Context, tenantID, slug string, delta int, a model.Actor) error {
	ps, err := s.store.Plugins(ctx, tenantID)
	if err != nil {
		return err
	}
	slugs := make([]string, len(ps))
	idx := -1
	for i, p := range ps {
		slugs[i] = p.Slug
		if p.Slug == slug {
			idx = i
		}
	}
	if idx < 0 {
		return model.ErrNotFound
	}
	j := idx + delta
	if j < 0 || j >= len(slugs) {
		return nil // already at the edge: nothing to do
	}
	slugs[idx], slugs[j] = slugs[j], slugs[idx]
	return s.store.ReorderPlugins(ctx, tenantID, slugs, a)
}

// MaxOrderSlugs bounds a reorder (far above any real menu).
const MaxOrderSlugs = 1000

// ReorderPlugins sets the menu order to slugs: every live plugin exactly
// once, top first (storage.ErrOrderMismatch otherwise). The new order is
// effective on the next request.
func (s *Service) ReorderPlugins(ctx context.Context, tenantID string, slugs []string, a model.Actor) error {
	if len(slugs) > MaxOrderSlugs {
		v := &model.ValidationError{}
		v.Add("slugs", "too_many")
		return v
	}
	return s.store.ReorderPlugins(ctx, tenantID, slugs, a)
}

// DeletePlugin soft-deletes a plugin, guarded by version: it leaves every
// menu at once, keeps its history and keeps its slug reserved.
func (s *Service) DeletePlugin(ctx context.Context, tenantID, slug string, version *int64, a model.Actor) error {
	if version == nil {
		return ErrVersionNeeded
	}
	return s.store.DeletePlugin(ctx, tenantID, slug, *version, a)
}

// ConfigEntry is one key of a configuration replacement.
type ConfigEntry struct {
	Key   string           `json:"key"`
	Type  model.ConfigType `json:"type"`
	Value string           `json:"value"`
}

// ReplaceConfig validates and replaces a plugin's whole configuration.
func (s *Service) ReplaceConfig(ctx context.Context, tenantID, slug string, version *int64, entries []ConfigEntry, a model.Actor) error {
	if version == nil {
		return ErrVersionNeeded
	}
	v := &model.ValidationError{}
	if len(entries) > model.MaxConfigKeys {
		v.Add("entries", "too_many")
	}
	seen := map[string]bool{}
	values := make([]model.ConfigValue, 0, len(entries))
	for i, e := range entries {
		cv := model.ConfigValue{Key: strings.TrimSpace(e.Key), Type: e.Type, Value: e.Value}
		if err := cv.Validate(); err != nil {
			fv, _ := model.AsValidation(err)
			for _, f := range fv.Fields {
				v.Add(fmt.Sprintf("entries[%d].%s", i, f.Field), f.Code)
			}
			continue
		}
		if seen[cv.Key] {
			v.Add(fmt.Sprintf("entries[%d].key", i), "duplicate")
			continue
		}
		seen[cv.Key] = true
		values = append(values, cv)
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.store.ReplacePluginConfig(ctx, tenantID, slug, *version, values, a)
}

// PutSecret validates, encrypts and stores one secret value.
func (s *Service) PutSecret(ctx context.Context, tenantID, slug, name, value string, a model.Actor) error {
	v := &model.ValidationError{}
	if !model.ValidKey(name) {
		v.Add("name", "invalid_key")
	}
	if value == "" {
		v.Add("value", "required")
	} else if len(value) > model.MaxSecretValueLen {
		v.Add("value", "too_long")
	}
	if err := v.Err(); err != nil {
		return err
	}
	p, err := s.store.PluginBySlug(ctx, tenantID, slug)
	if err != nil {
		return err
	}
	sealed, err := s.box.Seal(tenantID, p.ID, name, []byte(value))
	if err != nil {
		return fmt.Errorf("seal secret: %w", err)
	}
	err = s.store.PutSecret(ctx, tenantID, p.ID, slug, name, sealed, a)
	if errors.Is(err, storage.ErrTooManySecrets) {
		v.Add("name", "too_many_secrets")
		return v.Err()
	}
	return err
}

// DeleteSecret removes one secret.
func (s *Service) DeleteSecret(ctx context.Context, tenantID, slug, name string, a model.Actor) error {
	if !model.ValidKey(name) {
		return model.ErrNotFound
	}
	p, err := s.store.PluginBySlug(ctx, tenantID, slug)
	if err != nil {
		return err
	}
	return s.store.DeleteSecret(ctx, tenantID, p.ID, slug, name, a)
}
