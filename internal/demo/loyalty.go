package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// The loyalty app (plugins/loyalty, docs/loyalty.md) that `make run` starts
// next to the portal, and the plugin that registers it in the demo tenant.
const (
	// LoyaltyAppURL is where the loyalty app receives launches.
	LoyaltyAppURL = "http://localhost:8092/launch"
	// LoyaltyAppSlug is its plugin's slug: the "Pontos" entry Seed
	// registers as an inactive placeholder.
	LoyaltyAppSlug = "pontos"
	// LoyaltyAppCredentialsFile is the file, in the data directory, that
	// hands the app its client credentials (mode 0600).
	LoyaltyAppCredentialsFile = "loyalty.json"
)

// LoyaltyAppPlugin is the demo registration of the loyalty app: an iframe
// plugin with token authentication for clientes ("Pontos": their balance,
// history and card) that is also shown in the manager panel, where a
// gestor opens it as staff (find a customer, give or redeem points, the
// programme's rules, stores, CSV imports). It is granted every profile
// field: the app matches a portal user with a customer the point-of-sale
// API or a CSV file created by e-mail or CPF.
func LoyaltyAppPlugin(appURL string) model.Plugin {
	return model.Plugin{Slug: LoyaltyAppSlug, Name: "Programa de pontos", Title: "Pontos",
		Titles: model.Titles{"es": "Puntos", "en": "Points"},
		Type:   model.PluginIframe, URL: appURL, Icon: "pontos", VisibleTo: model.VisibleCliente,
		ShowInPortal: true, ShowInManager: true, Active: true, Size: model.SizeGrande, AuthType: model.AuthToken,
		Position: 60, LaunchMethod: model.LaunchPost,
		UserFields: model.StringList{model.UserFieldName, model.UserFieldEmail, model.UserFieldDocument, model.UserFieldPhone}}
}

// EnsureLoyaltyApp makes the demo tenant's "Pontos" entry the loyalty app
// at appURL: it turns the inactive placeholder Seed registers into the
// app's registration (LoyaltyAppPlugin), or registers it when the tenant
// lacks it and it was never deleted, and hands the app working client
// credentials in credPath (mode 0600; re-issued only when the file does
// not hold the plugin's current client_id). A "pontos" plugin a gestor
// changed into something else (another URL) is left alone, and so is a
// database without the demo tenant. Only the demo calls it.
func EnsureLoyaltyApp(ctx context.Context, store *storage.Store, baseURL, appURL, credPath string) error {
	fail := func(err error) error { return fmt.Errorf("demo loyalty app: %w", err) }
	t, err := store.TenantBySlug(ctx, TenantSlug)
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fail(err)
	}
	reg := LoyaltyAppPlugin(appURL)
	rules := model.PluginRules{IconExists: icon.Exists, AllowInsecureLocal: true}
	actor := model.SystemActor("demo")
	p, err := store.PluginBySlug(ctx, t.ID, LoyaltyAppSlug)
	switch {
	case errors.Is(err, model.ErrNotFound):
		if err := reg.Validate(rules); err != nil {
			return fail(err)
		}
		if err := store.CreatePlugin(ctx, t.ID, &reg, actor); errors.Is(err, model.ErrConflict) {
			return nil // deleted by a gestor: respect that
		} else if err != nil {
			return fail(err)
		}
		p = &reg
	case err != nil:
		return fail(err)
	case p.Type == model.PluginIframe && strings.HasSuffix(p.URL, "/demo/frame/"+LoyaltyAppSlug):
		p, err = store.UpdatePlugin(ctx, t.ID, LoyaltyAppSlug, p.Version, actor, model.AuditPluginUpdate, func(q *model.Plugin) error {
			id, created, version := q.ID, q.CreatedAt, q.Version
			*q = reg
			q.ID, q.TenantID, q.CreatedAt, q.Version = id, t.ID, created, version
			return q.Validate(rules)
		})
		if err != nil {
			return fail(err)
		}
	case p.URL != appURL || p.AuthType != model.AuthToken:
		return nil // a gestor made it something else
	}
	return ensureCredentials(ctx, store, t.ID, p, baseURL, credPath)
}
