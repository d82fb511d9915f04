package model

import (
	"fmt"
	"slices"
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
	ID        string `gorm:"primaryKey"`
	TenantID  string
	Name      string
	Prefix    string
	Hash      string
	Scopes    StringList `gorm:"type:text"`
	CreatedBy string     // the creator's e-mail or key name at the time
	// CreatedByUserID is the gestor who created the key (nil when another
	// key or the command line did): the key is revoked when that person
	// is deactivated or stops being a gestor.
	CreatedByUserID *string
	CreatedAt       time.Time
	LastUsedAt      *time.Time
	RevokedAt       *time.Time
}

// HasScope reports whether the key carries s.
func (k *APIKey) HasScope(s Scope) bool { return slices.Contains(k.Scopes, string(s)) }

// Active reports whether the key has not been revoked.
func (k *APIKey) Active() bool { return k.RevokedAt == nil }
