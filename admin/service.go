package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/storage"
)

// Service holds every admin operation. The UI and the API both call it, so
// there is one validation and one audit trail whatever the entry point.
type Service struct {
	Store  *storage.Store
	Box    *secret.Box
	Demo   bool // allows http:// URLs on localhost
	resetT time.Duration
	// Launch manages the tenants' token signing keys. The host sets the
	// service its launch endpoints use before serving; when it is nil, one
	// over Store and Box is made on first use (see service_access.go).
	Launch     *launch.Service
	launchOnce sync.Once
}

// NewService returns a Service.
func NewService(store *storage.Store, box *secret.Box, demo bool) *Service {
	return &Service{Store: store, Box: box, Demo: demo, resetT: 24 * time.Hour}
}

// Errors the handlers map to HTTP statuses.
var (
	ErrSlugTaken     = errors.New("slug already used by a plugin of this tenant (deleted ones included)")
	ErrEmailTaken    = errors.New("e-mail already used by a user of this tenant")
	ErrVersionNeeded = errors.New("version is required to change a record")
)

// PluginInput is a create or a partial update (PATCH) of a plugin: a nil
// field is left as it is.
type PluginInput struct {
	Slug          *string           `json:"slug"`
	Name          *string           `json:"name"`
	Title         *string           `json:"title"`
	Type          *model.PluginType `json:"type"`
	URL           *string           `json:"url"`
	Icon          *string           `json:"icon"`
	Active        *bool             `json:"active"`
	ShowInPortal  *bool             `json:"show_in_portal"`
	ShowInManager *bool             `json:"show_in_manager"`
	VisibleTo     *model.Visibility `json:"visible_to"`
	AuthType      *model.AuthType   `json:"auth_type"`
	Size          *model.Size       `json:"size"`
	Width         *int              `json:"width"`
	Height        *int              `json:"height"`
	Position      *int              `json:"position"`
	AllowedHosts  *[]string         `json:"allowed_hosts"`
	TimeoutMS     *int              `json:"timeout_ms"`
	MemoryMB      *int              `json:"memory_mb"`
	// Access settings (also editable on their own, see AccessInput).
	UserFields      *[]string           `json:"user_fields"`
	Grants          *[]string           `json:"grants"`
	TokenTTLSeconds *int                `json:"token_ttl_seconds"`
	LaunchMethod    *model.LaunchMethod `json:"launch_method"`
	Version         *int64              `json:"version"`
}

// Changed lists the JSON names of the fields the input sets (besides
// version), for audit messages and PATCH responses.
func (in *PluginInput) Changed() []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(in.Slug != nil, "slug")
	add(in.Name != nil, "name")
	add(in.Title != nil, "title")
	add(in.Type != nil, "type")
	add(in.URL != nil, "url")
	add(in.Icon != nil, "icon")
	add(in.Active != nil, "active")
	add(in.ShowInPortal != nil, "show_in_portal")
	add(in.ShowInManager != nil, "show_in_manager")
	add(in.VisibleTo != nil, "visible_to")
	add(in.AuthType != nil, "auth_type")
	add(in.Size != nil, "size")
	add(in.Width != nil, "width")
	add(in.Height != nil, "height")
	add(in.Position != nil, "position")
	add(in.AllowedHosts != nil, "allowed_hosts")
	add(in.TimeoutMS != nil, "timeout_ms")
	add(in.MemoryMB != nil, "memory_mb")
	add(in.UserFields != nil, "user_fields")
	add(in.Grants != nil, "grants")
	add(in.TokenTTLSeconds != nil, "token_ttl_seconds")
	add(in.LaunchMethod != nil, "launch_method")
	return out
}

func (in *PluginInput) apply(p *model.Plugin) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.Slug, in.Slug)
	set(&p.Name, in.Name)
	set(&p.Title, in.Title)
	set(&p.URL, in.URL)
	set(&p.Icon, in.Icon)
	if in.Type != nil {
		p.Type = *in.Type
	}
	if in.Active != nil {
		p.Active = *in.Active
	}
	if in.ShowInPortal != nil {
		p.ShowInPortal = *in.ShowInPortal
	}
	if in.ShowInManager != nil {
		p.ShowInManager = *in.ShowInManager
	}
	if in.VisibleTo != nil {
		p.VisibleTo = *in.VisibleTo
	}
	if in.AuthType != nil {
		p.AuthType = *in.AuthType
	}
	if in.Width != nil || in.Height != nil {
		// Explicit dimensions mean a custom size unless a preset is named too.
		p.Size = model.SizeCustom
		if in.Width != nil {
			p.Width = *in.Width
		}
		if in.Height != nil {
			p.Height = *in.Height
		}
	}
	if in.Size != nil {
		p.Size = *in.Size
	}
	if in.Position != nil {
		p.Position = *in.Position
	}
	if in.AllowedHosts != nil {
		p.AllowedHosts = model.StringList(*in.AllowedHosts)
	}
	if in.TimeoutMS != nil {
		p.TimeoutMS = *in.TimeoutMS
	}
	if in.MemoryMB != nil {
		p.MemoryMB = *in.MemoryMB
	}
	(&AccessInput{UserFields: in.UserFields, Grants: in.Grants, TokenTTLSeconds: in.TokenTTLSeconds, LaunchMethod: in.LaunchMethod}).apply(p)
}

func (s *Service) rules() model.PluginRules {
	return model.PluginRules{IconExists: icon.Exists, AllowInsecureLocal: s.Demo}
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
	p := &model.Plugin{Type: model.PluginIframe, Active: true, ShowInPortal: true, Size: model.SizeMedio, AuthType: model.AuthNone}
	if in.Position == nil {
		ps, err := s.Store.Plugins(ctx, tenantID)
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
	if err := s.Store.CreatePluginAudited(ctx, tenantID, p, a); err != nil {
		if errors.Is(err, model.ErrConflict) {
			return nil, nil, ErrSlugTaken
		}
		return nil, nil, err
	}
	return p, creds, nil
}

// UpdatePlugin applies a partial update guarded by in.Version. The slug
// cannot change (links and launch tokens name it). Switching to token
// authentication issues credentials, returned once.
func (s *Service) UpdatePlugin(ctx context.Context, tenantID, slug string, a model.Actor, in PluginInput) (*model.Plugin, *Credentials, error) {
	if in.Version == nil {
		return nil, nil, ErrVersionNeeded
	}
	if in.Slug != nil && *in.Slug != slug {
		v := &model.ValidationError{}
		v.Add("slug", "immutable")
		return nil, nil, v
	}
	var creds *Credentials
	p, err := s.Store.UpdatePlugin(ctx, tenantID, slug, *in.Version, a, "plugin.update", func(p *model.Plugin) error {
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
	p, _, err := s.UpdatePlugin(ctx, tenantID, slug, a, PluginInput{Active: &active, Version: &version})
	return p, err
}

// Move moves a plugin one place up (delta -1) or down (+1) in the menu: the
// keyboard alternative to drag-and-drop.
func (s *Service) Move(ctx context.Context, tenantID, slug string, delta int, a model.Actor) error {
	ps, err := s.Store.Plugins(ctx, tenantID)
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
	return s.Store.ReorderPlugins(ctx, tenantID, slugs, a)
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
	return s.Store.ReplacePluginConfig(ctx, tenantID, slug, *version, values, a)
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
	p, err := s.Store.PluginBySlug(ctx, tenantID, slug)
	if err != nil {
		return err
	}
	sealed, err := s.Box.Seal(tenantID, p.ID, name, []byte(value))
	if err != nil {
		return fmt.Errorf("seal secret: %w", err)
	}
	return s.Store.PutSecret(ctx, tenantID, p.ID, slug, name, sealed, a)
}

// DeleteSecret removes one secret.
func (s *Service) DeleteSecret(ctx context.Context, tenantID, slug, name string, a model.Actor) error {
	if !model.ValidKey(name) {
		return model.ErrNotFound
	}
	p, err := s.Store.PluginBySlug(ctx, tenantID, slug)
	if err != nil {
		return err
	}
	return s.Store.DeleteSecret(ctx, tenantID, p.ID, slug, name, a)
}

// NewAPIKey creates a key and returns it in clear, once.
func (s *Service) NewAPIKey(ctx context.Context, tenantID, name string, scopes []string, a model.Actor) (*model.APIKey, string, error) {
	v := &model.ValidationError{}
	name = model.CheckField(v, "name", name, model.MaxAPIKeyNameLength, true, false)
	sc, err := model.ParseScopes(strings.Join(scopes, ","))
	if err != nil {
		v.Add("scopes", "invalid_choice")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	key := APIKeyPrefix + auth.NewToken()
	k := &model.APIKey{Name: name, Scopes: sc, Prefix: key[:len(APIKeyPrefix)+6], Hash: auth.HashToken(key)}
	if err := s.Store.CreateAPIKey(ctx, tenantID, k, a); err != nil {
		return nil, "", err
	}
	return k, key, nil
}

// APIKeyPrefix starts every Portico API key, so secret scanners and people
// recognise one.
const APIKeyPrefix = "pk_"

// UserInput is a create or partial update of a user.
type UserInput struct {
	Email    *string   `json:"email"`
	Name     *string   `json:"name"`
	Document *string   `json:"document"`
	Phone    *string   `json:"phone"`
	Roles    *[]string `json:"roles"`
	Locale   *string   `json:"locale"`
	Active   *bool     `json:"active"`
	Password *string   `json:"password"`
	Version  *int64    `json:"version"`
}

func (in *UserInput) apply(u *model.User, v *model.ValidationError) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&u.Email, in.Email)
	set(&u.Name, in.Name)
	set(&u.Document, in.Document)
	set(&u.Phone, in.Phone)
	set(&u.Locale, in.Locale)
	if in.Active != nil {
		u.Active = *in.Active
	}
	if in.Roles != nil {
		u.Roles = model.Roles{}
		for _, r := range *in.Roles {
			role, err := model.ParseRole(r)
			if err != nil {
				v.Add("roles", "invalid_choice")
				continue
			}
			u.Roles = append(u.Roles, role)
		}
	}
}

// CreateUser creates an active user. Without a password the user can log in
// only after following a reset link (see ResetLink).
func (s *Service) CreateUser(ctx context.Context, tenantID string, a model.Actor, in UserInput) (*model.User, error) {
	u := &model.User{Active: true}
	v := &model.ValidationError{}
	in.apply(u, v)
	if err := u.Validate(); err != nil {
		fv, _ := model.AsValidation(err)
		v.Fields = append(v.Fields, fv.Fields...)
	}
	if in.Password != nil && *in.Password != "" {
		if len(*in.Password) < 10 || len(*in.Password) > auth.MaxPasswordLength {
			v.Add("password", "password_length")
		} else if err := v.Err(); err == nil {
			h, err := auth.HashPassword(ctx, *in.Password)
			if err != nil {
				return nil, err
			}
			u.PasswordHash = h
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.Store.CreateUserAudited(ctx, tenantID, u, a); err != nil {
		if errors.Is(err, model.ErrConflict) {
			return nil, ErrEmailTaken
		}
		return nil, err
	}
	return u, nil
}

// UpdateUser applies a partial update guarded by in.Version; deactivating
// ends the user's sessions at once. Passwords change only by reset link.
func (s *Service) UpdateUser(ctx context.Context, tenantID, id string, a model.Actor, in UserInput) (*model.User, error) {
	if in.Version == nil {
		return nil, ErrVersionNeeded
	}
	if in.Password != nil {
		v := &model.ValidationError{}
		v.Add("password", "not_allowed")
		return nil, v
	}
	u, err := s.Store.UpdateUser(ctx, tenantID, id, *in.Version, a, func(u *model.User) error {
		v := &model.ValidationError{}
		in.apply(u, v)
		// A gestor cannot lock themselves out: someone else must do it.
		if a.Type == "user" && a.ID == u.ID {
			if !u.Active {
				v.Add("active", "self_lockout")
			}
			if !u.HasRole(model.RoleGestor) {
				v.Add("roles", "self_lockout")
			}
		}
		if err := u.Validate(); err != nil {
			fv, _ := model.AsValidation(err)
			v.Fields = append(v.Fields, fv.Fields...)
		}
		return v.Err()
	})
	if errors.Is(err, model.ErrConflict) && !errors.Is(err, storage.ErrStale) {
		return nil, ErrEmailTaken
	}
	return u, err
}

// ResetLink creates a one-time password reset token for a user, valid for
// 24 hours, and returns the path the user opens.
func (s *Service) ResetLink(ctx context.Context, tenantID, userID string, a model.Actor) (string, error) {
	token := auth.NewToken()
	if err := s.Store.CreatePasswordReset(ctx, tenantID, userID, auth.HashToken(token), s.resetT, a); err != nil {
		return "", err
	}
	return "/reset/" + token, nil
}

// TenantInput is a partial update of tenant settings.
type TenantInput struct {
	Name                 *string   `json:"name"`
	BrandName            *string   `json:"brand_name"`
	LogoURL              *string   `json:"logo_url"`
	PrimaryColor         *string   `json:"primary_color"`
	DefaultLocale        *string   `json:"default_locale"`
	AllowedOrigins       *[]string `json:"allowed_origins"`
	PortalSessionMinutes *int      `json:"portal_session_minutes"`
	Version              *int64    `json:"version"`
}

// UpdateTenant applies a partial update of the tenant's settings.
func (s *Service) UpdateTenant(ctx context.Context, tenantID string, a model.Actor, in TenantInput) (*model.Tenant, error) {
	if in.Version == nil {
		return nil, ErrVersionNeeded
	}
	return s.Store.UpdateTenant(ctx, tenantID, *in.Version, a, func(t *model.Tenant) error {
		set := func(dst *string, src *string) {
			if src != nil {
				*dst = strings.TrimSpace(*src)
			}
		}
		set(&t.Name, in.Name)
		set(&t.BrandName, in.BrandName)
		set(&t.LogoURL, in.LogoURL)
		set(&t.PrimaryColor, in.PrimaryColor)
		set(&t.DefaultLocale, in.DefaultLocale)
		if in.AllowedOrigins != nil {
			t.AllowedOrigins = model.StringList(*in.AllowedOrigins)
		}
		if in.PortalSessionMinutes != nil {
			t.PortalSessionMinutes = *in.PortalSessionMinutes
		}
		// Hostnames are not editable here; keep them out of validation.
		hosts := t.Hostnames
		t.Hostnames = nil
		err := t.Validate(s.Demo)
		t.Hostnames = hosts
		return err
	})
}
