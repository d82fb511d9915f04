package model

import (
	"time"

	"gorm.io/gorm"
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

// Plugin is one menu entry of a tenant: its registration as the CV seed
// describes it, plus its menu position.
type Plugin struct {
	ID            string `gorm:"primaryKey"`
	TenantID      string
	Slug          string     // Unique inside the tenant; used in /p/{slug}.
	Name          string     // Internal name shown to gestores.
	Title         string     // Menu label shown to users, e.g. "Financeiro".
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
	// TimeoutMS and MemoryMB are a wasm plugin's per-call limits.
	TimeoutMS int
	MemoryMB  int
	// ActiveVersion and PreviousVersion reference plugin_versions rows of a
	// wasm plugin; PreviousVersion is the one-step rollback target.
	ActiveVersion   string
	PreviousVersion string
	Version         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
	DeletedAt       gorm.DeletedAt
}

// InPortalMenu reports whether the plugin appears in the customer-portal
// menu of someone browsing as role r.
func (p *Plugin) InPortalMenu(r Role) bool {
	return p.Active && p.ShowInPortal && p.VisibleTo.Includes(r)
}

// InManagerPanel reports whether the plugin appears in the gestor panel.
func (p *Plugin) InManagerPanel() bool { return p.Active && p.ShowInManager }

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
