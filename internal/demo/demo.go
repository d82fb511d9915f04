// Package demo seeds the demo tenant, "Construtora Exemplo", into an empty
// database. It runs only when PORTICO_DEMO=true and never touches a
// database that already has a tenant.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/plugins/fakeerp/erp"
)

// Password is every demo account's password.
const Password = "portico-demo"

// Account is one demo login.
type Account struct {
	Email string
	Name  string
	Roles model.Roles
	// Document is the CPF the company's ERP knows the customer by (the
	// fake ERP's demo customers), or "".
	Document string
}

// Accounts are the demo logins, in the order they are printed.
var Accounts = []Account{
	{"cliente@demo.portico.test", "Carla Cliente", model.Roles{model.RoleCliente}, erp.DemoClienteCPF},
	{"sindico@demo.portico.test", "Sérgio Síndico", model.Roles{model.RoleSindico}, ""},
	{"gestor@demo.portico.test", "Gabriela Gestora", model.Roles{model.RoleGestor}, ""},
	{"ambos@demo.portico.test", "Antônio Ambos", model.Roles{model.RoleCliente, model.RoleSindico}, erp.DemoAmbosCPF},
}

// TenantSlug is the demo tenant's slug.
const TenantSlug = "construtora-exemplo"

// Plugins returns the demo registrations. Together they exercise every menu
// rule; baseURL is where the demo frame pages are served (the portal
// itself, e.g. http://localhost:8080).
//
//	slug          visible to  portal  manager  active  → who sees it
//	financeiro    cliente     yes     no       yes     cliente, ambos (as cliente)
//	documentos    ambos       yes     no       yes     cliente, síndico, ambos
//	assembleias   sindico     yes     no       yes     síndico, ambos (as síndico)
//	chamados      ambos       yes     yes      yes     everyone, gestor in the panel
//	relatorios    sindico     no      yes      yes     gestor panel only
//	pontos        cliente     yes     no       no      nobody (inactive; see below)
//	vistoria      ambos       no      no       yes     nobody (hidden from the portal)
//
// financeiro is a placeholder frame here; `portico serve` with the demo
// turns it into the finance wasm plugin (InstallFinanceiro) when
// bin/plugins/financeiro.wasm exists. pontos too: `portico serve` with the
// demo makes it the loyalty app `make run` starts (EnsureLoyaltyApp:
// active, for clientes and in the manager panel).
func Plugins(baseURL string) []model.Plugin {
	frame := func(slug string) string { return baseURL + "/demo/frame/" + slug }
	ps := []model.Plugin{
		{Slug: "financeiro", Name: "Financeiro (ERP)", Title: "Financeiro", Titles: model.Titles{"es": "Finanzas", "en": "Billing"}, Icon: "financeiro", VisibleTo: model.VisibleCliente,
			ShowInPortal: true, Active: true, Size: model.SizeGrande, AuthType: model.AuthToken, Position: 10},
		{Slug: "documentos", Name: "Documentos da unidade", Title: "Documentos", Titles: model.Titles{"es": "Documentos", "en": "Documents"}, Icon: "documentos", VisibleTo: model.VisibleAmbos,
			ShowInPortal: true, Active: true, Size: model.SizeMedio, AuthType: model.AuthNone, Position: 20},
		{Slug: "assembleias", Name: "Assembleias do condomínio", Title: "Assembleias", Titles: model.Titles{"es": "Asambleas", "en": "Meetings"}, Icon: "calendario", VisibleTo: model.VisibleSindico,
			ShowInPortal: true, Active: true, Size: model.SizeTelaCheia, AuthType: model.AuthToken, Position: 30},
		{Slug: "chamados", Name: "Chamados de assistência técnica", Title: "Chamados", Titles: model.Titles{"es": "Solicitudes", "en": "Service requests"}, Icon: "ferramentas", VisibleTo: model.VisibleAmbos,
			ShowInPortal: true, ShowInManager: true, Active: true, Size: model.SizeCustom, Width: 800, Height: 600, AuthType: model.AuthToken, Position: 40},
		{Slug: "relatorios", Name: "Relatórios de atendimento", Title: "Relatórios", Titles: model.Titles{"es": "Informes", "en": "Reports"}, Icon: "relatorio", VisibleTo: model.VisibleSindico,
			ShowInPortal: false, ShowInManager: true, Active: true, Size: model.SizeTelaCheia, AuthType: model.AuthToken, Position: 50},
		{Slug: "pontos", Name: "Programa de pontos", Title: "Pontos", Titles: model.Titles{"es": "Puntos", "en": "Points"}, Icon: "pontos", VisibleTo: model.VisibleCliente,
			ShowInPortal: true, Active: false, Size: model.SizeMedio, AuthType: model.AuthToken, Position: 60},
		{Slug: "vistoria", Name: "Vistoria de entrega", Title: "Vistoria", Titles: model.Titles{"es": "Inspección", "en": "Handover inspection"}, Icon: "casa", VisibleTo: model.VisibleAmbos,
			ShowInPortal: false, Active: true, Size: model.SizeMedio, AuthType: model.AuthNone, Position: 70},
	}
	for i := range ps {
		ps[i].Type = model.PluginIframe
		ps[i].URL = frame(ps[i].Slug)
	}
	return ps
}

// Seed creates the demo tenant, its four accounts and its plugins when the
// database has no tenant yet. It reports whether it seeded.
func Seed(ctx context.Context, store *storage.Store, baseURL string) (bool, error) {
	n, err := store.CountTenants(ctx)
	if err != nil {
		return false, fmt.Errorf("seed demo: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	t := &model.Tenant{
		Slug:           TenantSlug,
		Name:           "Construtora Exemplo",
		BrandName:      "Construtora Exemplo",
		DefaultLocale:  "pt-BR",
		PrimaryColor:   "#0b6e4f",
		Hostnames:      []string{"localhost", "127.0.0.1"},
		AllowedOrigins: model.StringList{"http://localhost:3000"},
	}
	if err := t.Validate(true); err != nil {
		return false, fmt.Errorf("seed demo tenant: %w", err)
	}
	var users []*model.User
	for _, a := range Accounts {
		hash, err := auth.HashPassword(ctx, Password)
		if err != nil {
			return false, fmt.Errorf("seed demo user: %w", err)
		}
		u := &model.User{Email: a.Email, Name: a.Name, Roles: a.Roles, PasswordHash: hash, Active: true, Document: a.Document}
		if err := u.Validate(); err != nil {
			return false, fmt.Errorf("seed demo user %s: %w", a.Email, err)
		}
		users = append(users, u)
	}
	var plugins []*model.Plugin
	rules := model.PluginRules{IconExists: icon.Exists, AllowInsecureLocal: true}
	for _, p := range Plugins(baseURL) {
		if err := p.Validate(rules); err != nil {
			return false, fmt.Errorf("seed demo plugin %s: %w", p.Slug, err)
		}
		plugins = append(plugins, &p)
	}
	if err := store.CreateTenantWith(ctx, t, users, plugins, model.SystemActor("demo")); err != nil {
		return false, fmt.Errorf("seed demo tenant: %w", err)
	}
	return true, nil
}

// The example iframe app (plugins/exampleapp) that `make run` starts next to
// the portal, and the plugin that registers it in the demo tenant.
const (
	// ExampleAppURL is where the example app receives launches.
	ExampleAppURL = "http://localhost:8090/launch"
	// ExampleAppSlug is its plugin's slug.
	ExampleAppSlug = "exemplo"
	// ExampleAppCredentialsFile is the file, in the data directory, that
	// hands the app its client credentials (mode 0600).
	ExampleAppCredentialsFile = "exampleapp.json"
)

// ExampleAppPlugin is the demo registration of the example app: an iframe
// plugin for clientes with token authentication and every profile field.
func ExampleAppPlugin(appURL string) *model.Plugin {
	return &model.Plugin{Slug: ExampleAppSlug, Name: "Aplicativo de exemplo (integração por token)", Title: "Exemplo", Titles: model.Titles{"es": "Ejemplo", "en": "Example"},
		Type: model.PluginIframe, URL: appURL, Icon: "usuario", VisibleTo: model.VisibleCliente, ShowInPortal: true, Active: true,
		Size: model.SizeMedio, AuthType: model.AuthToken, Position: 80, LaunchMethod: model.LaunchPost,
		UserFields: model.StringList{model.UserFieldName, model.UserFieldEmail, model.UserFieldDocument, model.UserFieldPhone}}
}

// exampleCredentials is the hand-off file's content.
type exampleCredentials struct {
	PortalOrigin string `json:"portal_origin"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// EnsureExampleApp makes the demo tenant's example-app plugin usable by the
// app `make run` starts: it registers the plugin when the demo tenant lacks
// it (a database seeded before it existed; a plugin a gestor deleted stays
// deleted), and when credPath does not hold the plugin's current client_id
// it issues a new client secret (the old one stops at once: nobody else
// knows it) and writes {"portal_origin","client_id","client_secret"} to
// credPath with mode 0600. It does nothing on a database without the demo
// tenant. Only the demo calls it.
func EnsureExampleApp(ctx context.Context, store *storage.Store, baseURL, appURL, credPath string) error {
	t, err := store.TenantBySlug(ctx, TenantSlug)
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo example app: %w", err)
	}
	actor := model.SystemActor("demo")
	p, err := store.PluginBySlug(ctx, t.ID, ExampleAppSlug)
	if errors.Is(err, model.ErrNotFound) {
		p = ExampleAppPlugin(appURL)
		if err := p.Validate(model.PluginRules{IconExists: icon.Exists, AllowInsecureLocal: true}); err != nil {
			return fmt.Errorf("demo example app plugin: %w", err)
		}
		err = store.CreatePlugin(ctx, t.ID, p, actor)
		if errors.Is(err, model.ErrConflict) {
			return nil // deleted by a gestor: respect that
		}
	}
	if err != nil {
		return fmt.Errorf("demo example app plugin: %w", err)
	}
	return ensureCredentials(ctx, store, t.ID, p, baseURL, credPath)
}

// ensureCredentials hands a demo app the client credentials of its token
// plugin p: when credPath does not hold p's current client_id for
// baseURL, it issues a new client secret (the old one stops at once:
// nobody else knows it) and writes {"portal_origin","client_id",
// "client_secret"} to credPath with mode 0600.
func ensureCredentials(ctx context.Context, store *storage.Store, tenantID string, p *model.Plugin, baseURL, credPath string) error {
	actor := model.SystemActor("demo")
	if raw, err := os.ReadFile(credPath); err == nil {
		var c exampleCredentials
		if json.Unmarshal(raw, &c) == nil && c.ClientID != "" && c.ClientID == p.ClientID && c.PortalOrigin == baseURL {
			return nil
		}
	}
	secret := "pcs_" + auth.NewToken()
	clientID := "pc_" + strings.ToLower(auth.NewToken()[:20])
	rotated, err := store.RotateClientSecret(ctx, tenantID, p.Slug, storage.NewClientSecret{ClientID: clientID, SecretHash: auth.HashToken(secret)}, nil, actor)
	if err != nil {
		return fmt.Errorf("demo %s credentials: %w", p.Slug, err)
	}
	b, err := json.MarshalIndent(exampleCredentials{PortalOrigin: baseURL, ClientID: rotated.ClientID, ClientSecret: secret}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(credPath), 0o750); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(credPath), err)
	}
	// Write a temporary file and rename it, so the app never reads half a file.
	tmp := credPath + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // WriteFile keeps an existing file's mode
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, credPath); err != nil {
		return fmt.Errorf("write %s: %w", credPath, err)
	}
	return nil
}
