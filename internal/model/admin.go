package model

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scope is a permission an API key carries.
type Scope string

// API key scopes.
const (
	ScopeAdmin          Scope = "admin"           // the admin API
	ScopePortalSessions Scope = "portal_sessions" // creating portal sessions (SSO)
)

// AllScopes lists every scope in display order.
var AllScopes = []Scope{ScopeAdmin, ScopePortalSessions}

// ParseScopes parses a comma-separated scope list, rejecting unknown names
// and empty lists.
func ParseScopes(s string) (StringList, error) {
	var out StringList
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !slices.Contains(AllScopes, Scope(part)) {
			return nil, fmt.Errorf("unknown scope %q", part)
		}
		if !slices.Contains(out, part) {
			out = append(out, part)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("at least one scope is required")
	}
	return out, nil
}

// MaxAPIKeyNameLength bounds an API key's name, in characters.
const MaxAPIKeyNameLength = 80

// APIKey lets a company's systems call Portico. The key itself is shown once;
// the database keeps its SHA-256 (Hash) and a short Prefix for recognition.
type APIKey struct {
	ID         string `gorm:"primaryKey"`
	TenantID   string
	Name       string
	Prefix     string
	Hash       string
	Scopes     StringList `gorm:"type:text"`
	CreatedBy  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// HasScope reports whether the key carries s.
func (k *APIKey) HasScope(s Scope) bool { return slices.Contains(k.Scopes, string(s)) }

// Active reports whether the key has not been revoked.
func (k *APIKey) Active() bool { return k.RevokedAt == nil }

// ConfigType is the type of a plugin configuration value.
type ConfigType string

// Configuration value types.
const (
	ConfigString  ConfigType = "string"
	ConfigNumber  ConfigType = "number"
	ConfigBoolean ConfigType = "boolean"
)

// ConfigValue is one typed key/value of a plugin's configuration.
type ConfigValue struct {
	TenantID  string     `json:"-" gorm:"primaryKey"`
	PluginID  string     `json:"-" gorm:"primaryKey"`
	Key       string     `json:"key" gorm:"primaryKey"`
	Type      ConfigType `json:"type"`
	Value     string     `json:"value"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// TableName maps ConfigValue onto plugin_config.
func (ConfigValue) TableName() string { return "plugin_config" }

// Limits of plugin configuration and secrets.
const (
	MaxConfigKeys       = 100
	MaxConfigValueLen   = 4096
	MaxSecretValueLen   = 8192
	MaxSecretsPerPlugin = 50
)

var keyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ValidKey reports whether s is a configuration key or secret name:
// lower-case letters, digits and underscores, starting with a letter, at
// most 64 characters.
func ValidKey(s string) bool { return keyRe.MatchString(s) }

// Validate checks the key, the type and that the value parses as its type,
// and normalises numbers and booleans.
func (c *ConfigValue) Validate() error {
	v := &ValidationError{}
	if !ValidKey(c.Key) {
		v.Add("key", "invalid_key")
	}
	if len(c.Value) > MaxConfigValueLen {
		v.Add("value", "too_long")
	} else if CheckText(c.Value, true) != nil {
		v.Add("value", TextCodeInvalid)
	}
	switch c.Type {
	case ConfigString:
	case ConfigNumber:
		f, err := strconv.ParseFloat(strings.TrimSpace(c.Value), 64)
		if err != nil {
			v.Add("value", "not_a_number")
		} else {
			c.Value = strconv.FormatFloat(f, 'f', -1, 64)
		}
	case ConfigBoolean:
		b, err := strconv.ParseBool(strings.TrimSpace(c.Value))
		if err != nil {
			v.Add("value", "not_a_boolean")
		} else {
			c.Value = strconv.FormatBool(b)
		}
	default:
		v.Add("type", "invalid_choice")
	}
	return v.Err()
}

// SecretMeta describes a stored secret without its value.
type SecretMeta struct {
	Name      string    `json:"name"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// Actor is who made a change: a gestor (by session) or an API key, or the
// system (CLI, seed).
type Actor struct {
	Type  string // "user", "api_key" or "system"
	ID    string
	Label string // e-mail or key name, kept as it was at the time
	IP    string
}

// AuditEntry is one append-only record of a change.
type AuditEntry struct {
	ID         string    `gorm:"primaryKey" json:"id"`
	TenantID   string    `json:"-"`
	At         time.Time `json:"at"`
	ActorType  string    `json:"actor_type"`
	ActorID    string    `json:"actor_id"`
	ActorLabel string    `json:"actor_label"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	BeforeJSON string    `json:"before,omitempty"`
	AfterJSON  string    `json:"after,omitempty"`
	IP         string    `json:"ip"`
}

// TableName maps AuditEntry onto audit_log.
func (AuditEntry) TableName() string { return "audit_log" }

// AuditFilter narrows an audit listing; zero fields match everything.
type AuditFilter struct {
	Action     string
	TargetType string
	TargetID   string
	ActorID    string
	Since      time.Time
	Until      time.Time
	Limit      int
	Before     string // page: entries older than this entry ID
}

// PluginVersion is one uploaded wasm module of a plugin.
type PluginVersion struct {
	ID         string `gorm:"primaryKey"`
	TenantID   string
	PluginID   string
	Number     int
	SHA256     string `gorm:"column:sha256"`
	SizeBytes  int64
	ABIVersion int    `gorm:"column:abi_version"`
	Module     []byte `gorm:"column:module"`
	CreatedBy  string
	CreatedAt  time.Time
}
