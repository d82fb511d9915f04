package abi

import "regexp"

// Grants a plugin may hold: each unlocks one family of host functions.
const (
	GrantHTTP    = "http"    // outbound HTTP to the plugin's allowed hosts (OpHTTP)
	GrantKV      = "kv"      // the plugin's durable key-value store (OpKV*)
	GrantConfig  = "config"  // the plugin's configuration in its Input
	GrantSecrets = "secrets" // the plugin's secrets, decrypted at call time (OpSecretGet)
	GrantLog     = "log"     // structured lines in the plugin's log (OpLog)
)

// Grants lists every grant in display order.
var Grants = []string{GrantHTTP, GrantKV, GrantConfig, GrantSecrets, GrantLog}

// Roles a user may hold (User.Role).
const (
	RoleCliente = "cliente" // a buyer of a unit or a subscriber
	RoleSindico = "sindico" // a condominium manager
	RoleGestor  = "gestor"  // the company's staff
)

// Roles lists every role in display order.
var Roles = []string{RoleCliente, RoleSindico, RoleGestor}

// Locales lists the portal's languages (User.Locale); the first is the
// default.
var Locales = []string{"pt-BR", "es", "en"}

// roleNames are the words for each role, per language (in Locales order).
// English has its own terms for the Brazilian roles: a síndico is a
// "building manager" (the elected manager of a condominium), a gestor a
// "manager" (the company's staff).
var roleNames = map[string][3]string{
	RoleCliente: {"Cliente", "Cliente", "Customer"},
	RoleSindico: {"Síndico", "Síndico", "Building manager"},
	RoleGestor:  {"Gestor", "Gestor", "Manager"},
}

// RoleName returns role as people read it in locale: the portal's pages
// and a plugin's view (sdk.Context.RoleName) use these words, never the
// code. An unknown role is returned as it is; an unknown locale reads as
// the default.
func RoleName(role, locale string) string {
	names, ok := roleNames[role]
	if !ok {
		return role
	}
	for i, l := range Locales {
		if l == locale {
			return names[i]
		}
	}
	return names[0]
}

var nameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

// ValidName reports whether s may name a form field or an action: an ASCII
// letter, then letters, digits, '_', '.' or '-', at most MaxName bytes.
// Names starting with '_' are the host's (e.g. _csrf).
func ValidName(s string) bool { return nameRe.MatchString(s) }

var slugRe = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$`)

// ValidSlug reports whether s may be a plugin's slug (PluginInfo.Slug): 1
// to 48 lower-case letters, digits and inner hyphens.
func ValidSlug(s string) bool { return slugRe.MatchString(s) }
