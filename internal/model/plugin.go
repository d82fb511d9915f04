package model

import (
	"crypto/subtle"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/sdk/abi"
)

// PluginType says how a plugin runs.
type PluginType string

// Plugin types.
const (
	PluginIframe PluginType = "iframe" // an external web app framed by the portal
	PluginWasm   PluginType = "wasm"   // a WebAssembly module run by Portico's sandbox
)

// Visibility says which portal roles see a plugin in their menu.
type Visibility string

// Visibility values, as named by the CV seed.
const (
	VisibleCliente Visibility = "cliente"
	VisibleSindico Visibility = "sindico"
	VisibleAmbos   Visibility = "ambos"
)

// Includes reports whether a user browsing as role r is covered.
func (v Visibility) Includes(r Role) bool {
	switch v {
	case VisibleAmbos:
		return r == RoleCliente || r == RoleSindico
	case VisibleCliente:
		return r == RoleCliente
	case VisibleSindico:
		return r == RoleSindico
	}
	return false
}

// AuthType says whether the portal hands the plugin a launch token.
type AuthType string

// Authentication types.
const (
	AuthToken AuthType = "token"
	AuthNone  AuthType = "none"
)

// LaunchMethod says how the launch page delivers the token.
type LaunchMethod string

// Launch methods.
const (
	LaunchPost LaunchMethod = "post"
	LaunchGet  LaunchMethod = "get"
)

// Grants a wasm plugin may hold: each unlocks one family of host functions
// (the plugin contract's abi.Grant*).
const (
	GrantHTTP    = abi.GrantHTTP    // outbound HTTP to the plugin's AllowedHosts
	GrantKV      = abi.GrantKV      // the plugin's durable key-value store
	GrantConfig  = abi.GrantConfig  // the plugin's configuration in its input
	GrantSecrets = abi.GrantSecrets // the plugin's secrets, decrypted at call time
	GrantLog     = abi.GrantLog     // structured lines in the plugin's log
)

// AllGrants lists every grant in display order (abi.Grants).
var AllGrants = abi.Grants

// User profile fields a plugin may be granted. The opaque user id, role,
// locale and tenant are always given.
const (
	UserFieldName     = "name"
	UserFieldEmail    = "email"
	UserFieldDocument = "document"
	UserFieldPhone    = "phone"
)

// AllUserFields lists every grantable profile field in display order.
var AllUserFields = []string{UserFieldName, UserFieldEmail, UserFieldDocument, UserFieldPhone}

// Plugin is one menu entry of a tenant: its registration as the CV seed
// describes it, plus its menu position.
type Plugin struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	Slug     string // Unique inside the tenant; used in /p/{slug}.
	Name     string // Internal name shown to gestores.
	Title    string // Menu label shown to users, e.g. "Financeiro".
	// Titles translate Title per language ("es" → "Finanzas"); a language
	// without one shows Title (TitleIn).
	Titles        Titles     `gorm:"type:text"`
	Type          PluginType // iframe or wasm.
	URL           string     `gorm:"column:url"` // The iframe app's URL (iframe plugins).
	ModuleRef     string     // The active module version (wasm plugins).
	Icon          string     // A name from the icon set (see package icon).
	Active        bool
	ShowInPortal  bool
	ShowInManager bool
	Size          Size // A preset, or SizeCustom with Width and Height.
	Width         int  // Frame width in CSS pixels; 0 means "fill the space".
	Height        int  // Frame height in CSS pixels; 0 means "fill the space".
	VisibleTo     Visibility
	AuthType      AuthType
	Position      int // Menu order, ascending; ties break by slug.
	// ClientID identifies a token-authenticated plugin to the launch
	// exchange; ClientSecretHash is the SHA-256 of its secret, which is
	// shown once at creation and never stored in clear.
	ClientID         string
	ClientSecretHash string
	// AllowedHosts lists the exact scheme://host:port origins a wasm plugin
	// may call (the runtime enforces it).
	AllowedHosts StringList `gorm:"type:text"`
	// AllowPrivateNetwork lets a wasm plugin reach private addresses (an
	// ERP on the company's network) at its AllowedHosts. It is the gestor's
	// half of the rule, off by default: the address must also be in the
	// operator's PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS.
	AllowPrivateNetwork bool
	// HomeCard shows a wasm plugin's home card (its card handler's short
	// view) on its tile of the portal's home page. Ignored for iframe
	// plugins, which have no card.
	HomeCard bool
	// TimeoutMS and MemoryMB are a wasm plugin's per-call limits.
	TimeoutMS int
	MemoryMB  int
	// ActiveVersion and PreviousVersion reference plugin_versions rows of a
	// wasm plugin; PreviousVersion is the one-step rollback target.
	ActiveVersion   string
	PreviousVersion string
	// Grants lists the host functions a wasm plugin may call (see the
	// Grant constants); a call without its grant fails.
	Grants StringList `gorm:"type:text"`
	// UserFields lists the profile fields (see the UserField constants) a
	// plugin receives: in a wasm plugin's input and in the launch exchange.
	UserFields StringList `gorm:"type:text"`
	// TokenTTLSeconds is the lifetime of an iframe plugin's launch token.
	TokenTTLSeconds int
	// LaunchMethod says how the launch page hands the token to the plugin:
	// LaunchPost (a form POST, the default) or LaunchGet (a query
	// parameter, for static hosts; it lands in URLs and logs).
	LaunchMethod LaunchMethod
	// PreviousClientSecretHash keeps the secret replaced by a rotation
	// working until PreviousSecretExpiresAt (the overlap window).
	PreviousClientSecretHash string
	PreviousSecretExpiresAt  *time.Time
	Version                  int64
	CreatedAt                time.Time
	UpdatedAt                time.Time
	DeletedAt                gorm.DeletedAt
}

// HasGrant reports whether the plugin holds grant g.
func (p *Plugin) HasGrant(g string) bool { return slices.Contains(p.Grants, g) }

// HasUserField reports whether the plugin is granted profile field f.
func (p *Plugin) HasUserField(f string) bool { return slices.Contains(p.UserFields, f) }

// ClientSecretMatches reports whether secretHash (auth.HashToken of the
// presented secret) is the plugin's current client secret, or its previous
// one while the rotation overlap lasts at now. It compares in constant time.
func (p *Plugin) ClientSecretMatches(secretHash string, now time.Time) bool {
	if p.ClientSecretHash != "" && subtle.ConstantTimeCompare([]byte(secretHash), []byte(p.ClientSecretHash)) == 1 {
		return true
	}
	return p.PreviousClientSecretHash != "" && p.PreviousSecretExpiresAt != nil && now.Before(*p.PreviousSecretExpiresAt) &&
		subtle.ConstantTimeCompare([]byte(secretHash), []byte(p.PreviousClientSecretHash)) == 1
}

// Published reports whether the plugin can be opened at all: it is
// active, and a wasm plugin has an active version (one created without a
// module, or whose module was never activated, has nothing to run, so it
// is in no menu and opens as not found; the admin list says why).
func (p *Plugin) Published() bool {
	return p.Active && (p.Type != PluginWasm || p.ActiveVersion != "")
}

// InPortalMenu reports whether the plugin appears in the customer-portal
// menu of someone browsing as role r.
func (p *Plugin) InPortalMenu(r Role) bool {
	return p.Published() && p.ShowInPortal && p.VisibleTo.Includes(r)
}

// OpenAs returns the role u opens the plugin as: the portal role being
// browsed (active) when the plugin is in that menu, gestor when it is reached
// through the manager panel, another of u's portal roles whose menu has it,
// or "" when u may not open it at all. The portal's back link, the launch
// token's role and a wasm plugin's input all follow this rule.
func (p *Plugin) OpenAs(u *User, active Role) Role {
	if active != "" && p.InPortalMenu(active) {
		return active
	}
	if u.HasRole(RoleGestor) && p.InManagerPanel() {
		return RoleGestor
	}
	for _, r := range u.PortalRoles() {
		if p.InPortalMenu(r) {
			return r
		}
	}
	return ""
}

// InManagerPanel reports whether the plugin appears in the gestor panel.
func (p *Plugin) InManagerPanel() bool { return p.Published() && p.ShowInManager }

// VisibleToUser reports whether u may open the plugin at all: through the
// portal menu under one of the user's roles, or through the manager panel.
func (p *Plugin) VisibleToUser(u *User) bool {
	for _, r := range u.PortalRoles() {
		if p.InPortalMenu(r) {
			return true
		}
	}
	return u.HasRole(RoleGestor) && p.InManagerPanel()
}
