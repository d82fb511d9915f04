package model

import "time"

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

// SystemActor is a change made by Portico itself or its operator rather
// than by a gestor or an API key: a seed, a CLI command, a test fixture;
// label says which.
func SystemActor(label string) Actor { return Actor{Type: ActorSystem, Label: label} }

// ActorSystem is the Type of SystemActor, and the creator recorded on what
// Portico creates by itself (a tenant's first signing key); pages show it
// in the reader's language, never as this code.
const ActorSystem = "system"

// Audit actions: what an audit entry records, the one list of them. The
// admin's audit page offers them as filters and names each in words
// (catalogue key "audit.action." + the action).
const (
	AuditPluginCreate             = "plugin.create"
	AuditPluginUpdate             = "plugin.update"
	AuditPluginAccess             = "plugin.access"
	AuditPluginDelete             = "plugin.delete"
	AuditPluginReorder            = "plugin.reorder"
	AuditPluginConfig             = "plugin.config"
	AuditPluginSecretSet          = "plugin.secret.set"
	AuditPluginSecretDelete       = "plugin.secret.delete"
	AuditPluginClientSecretRotate = "plugin.client_secret.rotate"
	AuditPluginVersionUpload      = "plugin.version.upload"
	AuditPluginVersionActivate    = "plugin.version.activate"
	AuditPluginVersionRollback    = "plugin.version.rollback"
	AuditPluginDataDelete         = "plugin.data.delete"
	AuditPluginDataClear          = "plugin.data.clear"
	AuditSigningKeyRotate         = "signing_key.rotate"
	AuditUserCreate               = "user.create"
	AuditUserUpdate               = "user.update"
	AuditUserPasswordResetLink    = "user.password_reset_link"
	AuditUserPasswordReset        = "user.password_reset"
	AuditUserPasswordChange       = "user.password_change"
	AuditAPIKeyCreate             = "api_key.create"
	AuditAPIKeyRevoke             = "api_key.revoke"
	AuditTenantCreate             = "tenant.create"
	AuditTenantUpdate             = "tenant.update"
	AuditUserProfile              = "user.profile"
	AuditUserAddress              = "user.address"
	AuditPortalSessionCreate      = "portal_session.create"
	AuditPortalSessionOpen        = "portal_session.open"
	AuditPortalSessionCodeLogin   = "portal_session.code_login"
	AuditPortalSessionLogout      = "portal_session.logout"
)

// AuditActions lists every audit action.
var AuditActions = []string{
	AuditPluginCreate, AuditPluginUpdate, AuditPluginAccess, AuditPluginDelete, AuditPluginReorder, AuditPluginConfig,
	AuditPluginSecretSet, AuditPluginSecretDelete, AuditPluginClientSecretRotate, AuditPluginVersionUpload,
	AuditPluginVersionActivate, AuditPluginVersionRollback, AuditPluginDataDelete, AuditPluginDataClear, AuditSigningKeyRotate, AuditUserCreate, AuditUserUpdate,
	AuditUserPasswordResetLink, AuditUserPasswordReset, AuditUserPasswordChange, AuditAPIKeyCreate, AuditAPIKeyRevoke, AuditTenantCreate, AuditTenantUpdate,
	AuditUserProfile, AuditUserAddress, AuditPortalSessionCreate, AuditPortalSessionOpen, AuditPortalSessionCodeLogin,
	AuditPortalSessionLogout,
}

// Redacted stands in an audit snapshot for a secret's value, which is
// never stored there; the audit page shows it in the reader's language.
const Redacted = "[redacted]"

// ShowsRedacted reports whether value v of snapshot field field stands
// for a secret: Redacted in one of the fields that hold one (a secret's
// "value", a plugin's "client_secret"). Elsewhere the same text is data
// (a plugin may name a key "[redacted]") and is shown as it is.
func ShowsRedacted(field, v string) bool {
	return v == Redacted && (field == "value" || field == "client_secret")
}
