package admin

import (
	"encoding/json"
	"time"

	"github.com/portico-dev/portico/internal/model"
)

// The admin API's JSON views. They list every field explicitly, so a field
// added to a model (a hash, a ciphertext) never reaches a response by
// accident.

type pluginView struct {
	Slug          string           `json:"slug"`
	Name          string           `json:"name"`
	Title         string           `json:"title"`
	Type          model.PluginType `json:"type"`
	URL           string           `json:"url"`
	Icon          string           `json:"icon"`
	Active        bool             `json:"active"`
	ShowInPortal  bool             `json:"show_in_portal"`
	ShowInManager bool             `json:"show_in_manager"`
	VisibleTo     model.Visibility `json:"visible_to"`
	AuthType      model.AuthType   `json:"auth_type"`
	Size          model.Size       `json:"size"`
	Width         int              `json:"width"`
	Height        int              `json:"height"`
	Position      int              `json:"position"`
	AllowedHosts  []string         `json:"allowed_hosts"`
	TimeoutMS     int              `json:"timeout_ms"`
	MemoryMB      int              `json:"memory_mb"`
	ClientID      string           `json:"client_id"`
	// Access settings (see also GET/PATCH /plugins/{slug}/access).
	UserFields      []string           `json:"user_fields"`
	Grants          []string           `json:"grants"`
	TokenTTLSeconds int                `json:"token_ttl_seconds"`
	LaunchMethod    model.LaunchMethod `json:"launch_method"`
	Version         int64              `json:"version"`
	CreatedAt       time.Time          `json:"created_at"`
	UpdatedAt       time.Time          `json:"updated_at"`
}

func viewPlugin(p *model.Plugin) pluginView {
	hosts := []string{}
	hosts = append(hosts, p.AllowedHosts...)
	acc := viewAccess(p, time.Time{})
	return pluginView{
		Slug: p.Slug, Name: p.Name, Title: p.Title, Type: p.Type, URL: p.URL, Icon: p.Icon,
		Active: p.Active, ShowInPortal: p.ShowInPortal, ShowInManager: p.ShowInManager,
		VisibleTo: p.VisibleTo, AuthType: p.AuthType, Size: p.Size, Width: p.Width, Height: p.Height,
		Position: p.Position, AllowedHosts: hosts, TimeoutMS: p.TimeoutMS, MemoryMB: p.MemoryMB,
		ClientID: p.ClientID, Version: p.Version, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
		UserFields: acc.UserFields, Grants: acc.Grants, TokenTTLSeconds: acc.TokenTTLSeconds, LaunchMethod: acc.LaunchMethod,
	}
}

// pluginDetail is one plugin with what a response adds to it: its
// configuration and secret names (GET), the fields a PATCH changed, and a
// token plugin's client secret, present only in the response that
// created it.
type pluginDetail struct {
	pluginView
	Config       *[]configView `json:"config,omitempty"`
	Secrets      *[]secretView `json:"secrets,omitempty"`
	Changed      *[]string     `json:"changed,omitempty"`
	ClientSecret string        `json:"client_secret,omitempty"`
}

type configView struct {
	Key       string           `json:"key"`
	Type      model.ConfigType `json:"type"`
	Value     string           `json:"value"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// secretView names a secret and when it was set; its value is write-only.
type secretView struct {
	Name      string    `json:"name"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// pluginSnapshotKeys orders the fields a plugin PATCH may report as changed.
var pluginSnapshotKeys = []string{"slug", "name", "title", "type", "url", "icon", "active", "show_in_portal",
	"show_in_manager", "visible_to", "auth_type", "size", "width", "height", "position", "allowed_hosts",
	"timeout_ms", "memory_mb", "client_id", "user_fields", "grants", "token_ttl_seconds", "launch_method"}

type userView struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Document  string    `json:"document"`
	Phone     string    `json:"phone"`
	Roles     []string  `json:"roles"`
	Locale    string    `json:"locale"`
	Active    bool      `json:"active"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Changed   *[]string `json:"changed,omitempty"`
}

func viewUser(u *model.User) userView {
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = string(r)
	}
	return userView{ID: u.ID, Email: u.Email, Name: u.Name, Document: u.Document, Phone: u.Phone, Roles: roles,
		Locale: u.Locale, Active: u.Active, Version: u.Version, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

var userSnapshotKeys = []string{"email", "name", "document", "phone", "roles", "locale", "active"}

type apiKeyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	Active     bool       `json:"active"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	// Key is the key itself, in the response that created it only.
	Key string `json:"key,omitempty"`
}

func viewAPIKey(k *model.APIKey) apiKeyView {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	scopes := []string{}
	scopes = append(scopes, k.Scopes...)
	return apiKeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: scopes, Active: k.Active(),
		CreatedAt: k.CreatedAt.UTC(), CreatedBy: k.CreatedBy, LastUsedAt: utc(k.LastUsedAt), RevokedAt: utc(k.RevokedAt)}
}

type tenantView struct {
	Slug                 string    `json:"slug"`
	Name                 string    `json:"name"`
	BrandName            string    `json:"brand_name"`
	LogoURL              string    `json:"logo_url"`
	PrimaryColor         string    `json:"primary_color"`
	DefaultLocale        string    `json:"default_locale"`
	AllowedOrigins       []string  `json:"allowed_origins"`
	PortalSessionMinutes int       `json:"portal_session_minutes"`
	Hostnames            []string  `json:"hostnames"`
	Version              int64     `json:"version"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`
	Changed              *[]string `json:"changed,omitempty"`
}

func viewTenant(t *model.Tenant) tenantView {
	origins := []string{}
	origins = append(origins, t.AllowedOrigins...)
	hosts := []string{}
	hosts = append(hosts, t.Hostnames...)
	return tenantView{Slug: t.Slug, Name: t.Name, BrandName: t.BrandName, LogoURL: t.LogoURL, PrimaryColor: t.PrimaryColor,
		DefaultLocale: t.DefaultLocale, AllowedOrigins: origins, PortalSessionMinutes: t.PortalSessionMinutes,
		Hostnames: hosts, Version: t.Version, CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

var tenantSnapshotKeys = []string{"name", "brand_name", "logo_url", "primary_color", "default_locale", "allowed_origins", "portal_session_minutes"}

type auditView struct {
	ID         string          `json:"id"`
	At         time.Time       `json:"at"`
	ActorType  string          `json:"actor_type"`
	ActorID    string          `json:"actor_id"`
	ActorLabel string          `json:"actor_label"`
	IP         string          `json:"ip"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
}

func viewAudit(e *model.AuditEntry) auditView {
	raw := func(s string) json.RawMessage {
		if s == "" || !json.Valid([]byte(s)) {
			return json.RawMessage("null")
		}
		return json.RawMessage(s)
	}
	return auditView{ID: e.ID, At: e.At.UTC(), ActorType: e.ActorType, ActorID: e.ActorID, ActorLabel: e.ActorLabel, IP: e.IP,
		Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Before: raw(e.BeforeJSON), After: raw(e.AfterJSON)}
}
