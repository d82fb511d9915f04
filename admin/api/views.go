package api

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/portico-dev/portico/internal/model"
)

// The admin API's JSON views. They list every field explicitly, so a field
// added to a model (a hash, a ciphertext) never reaches a response by
// accident.

// pluginView is a plugin as the API shows it: its editable fields (the
// access settings with their defaults filled in) and what the host
// issued.
type pluginView struct {
	model.PluginFields
	ClientID  string    `json:"client_id"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func viewPlugin(p *model.Plugin) pluginView {
	f := p.Fields()
	if f.AllowedHosts == nil {
		f.AllowedHosts = model.StringList{}
	}
	f.PluginAccess = viewAccess(p, time.Time{}).PluginAccess
	return pluginView{PluginFields: f, ClientID: p.ClientID, Version: p.Version,
		CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
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

// pluginChangeKeys orders the fields a plugin PATCH may report as
// changed: the editable fields, with the client ID (issued when a plugin
// switches to launch tokens) before the access settings.
var pluginChangeKeys = func() []string {
	names := model.PluginFieldNames()
	return slices.Insert(names, slices.Index(names, "user_fields"), "client_id")
}()

// pluginChangeView is what a plugin PATCH compares to name the fields it
// changed.
func pluginChangeView(p *model.Plugin) map[string]any {
	v := viewPlugin(p)
	m := v.PluginFields.Snapshot()
	m["client_id"] = v.ClientID
	return m
}

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
	PortalLinkMinutes    int       `json:"portal_link_minutes"`
	PortalLinkEmailLogin bool      `json:"portal_link_email_login"`
	DefaultReturnURL     string    `json:"default_return_url"`
	TimeZone             string    `json:"time_zone"`
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
		PortalLinkMinutes: t.PortalLinkMinutes, PortalLinkEmailLogin: t.PortalLinkEmailLogin, DefaultReturnURL: t.DefaultReturnURL,
		TimeZone: t.TimeZone, Hostnames: hosts, Version: t.Version, CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

var tenantSnapshotKeys = []string{"name", "brand_name", "logo_url", "primary_color", "default_locale", "allowed_origins", "portal_session_minutes",
	"portal_link_minutes", "portal_link_email_login", "default_return_url", "time_zone"}

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
