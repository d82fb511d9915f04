package demo

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/plugins/fakeerp/erp"
)

// FinanceiroSlug is the slug of the finance plugin (plugins/financeiro).
const FinanceiroSlug = "financeiro"

// ERPAPIURL is where `make run` starts the fake ERP's API
// (plugins/fakeerp).
const ERPAPIURL = "http://localhost:8091/" + erp.DemoSubdomain + "/public/api/v1"

// FinanceiroPlugin returns the registration of the finance plugin against
// the ERP API at apiURL: a wasm plugin for clientes, allowed to call the
// ERP's origin (on a private address only when the operator allows it
// too), granted HTTP, its KV store, secrets, configuration and log, and
// the user's name and document, with a call timeout of 5 s (the plugin
// bounds its ERP requests to answer politely within it).
func FinanceiroPlugin(apiURL string) (model.Plugin, error) {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return model.Plugin{}, fmt.Errorf("finance plugin: ERP URL %q is not absolute", apiURL)
	}
	return model.Plugin{
		Slug: FinanceiroSlug, Name: "Financeiro (segunda via de boleto)", Title: "Financeiro", Titles: model.Titles{"es": "Finanzas", "en": "Billing"}, Type: model.PluginWasm,
		Icon: "financeiro", VisibleTo: model.VisibleCliente, ShowInPortal: true, Active: true,
		Size: model.SizeGrande, AuthType: model.AuthNone, Position: 10,
		TimeoutMS: 5000, MemoryMB: model.DefaultMemoryMB, HomeCard: true,
		AllowedHosts:        model.StringList{u.Scheme + "://" + u.Host},
		AllowPrivateNetwork: true,
		Grants:              model.StringList{model.GrantHTTP, model.GrantKV, model.GrantSecrets, model.GrantConfig, model.GrantLog},
		UserFields:          model.StringList{model.UserFieldName, model.UserFieldDocument},
	}, nil
}

// Finance is what InstallFinanceiro needs besides the store.
type Finance struct {
	Module string      // path of financeiro.wasm
	Check  CheckModule // the sandbox's module check
	Box    *secret.Box // seals the ERP credentials
	// APIURL, User and Password reach the ERP (the fake ERP's defaults in
	// the demo).
	APIURL, User, Password string
}

// InstallFinanceiro makes the demo tenant's "Financeiro" entry the finance
// plugin: it turns the placeholder frame Seed registers into the wasm
// plugin (or registers it, when missing and never deleted), sets the
// demo's configuration and ERP credentials, and installs the module as
// its first version. A plugin that already runs a module, or that a
// gestor changed into something else, is left alone. It reports whether
// it installed.
func InstallFinanceiro(ctx context.Context, store *storage.Store, f Finance) (bool, error) {
	fail := func(err error) (bool, error) { return false, fmt.Errorf("install finance plugin: %w", err) }
	t, err := store.TenantBySlug(ctx, TenantSlug)
	if err != nil {
		return fail(err)
	}
	reg, err := FinanceiroPlugin(f.APIURL)
	if err != nil {
		return fail(err)
	}
	rules := model.PluginRules{IconExists: icon.Exists, AllowInsecureLocal: true}
	actor := model.SystemActor("demo")
	p, err := store.PluginBySlug(ctx, t.ID, FinanceiroSlug)
	switch {
	case errors.Is(err, model.ErrNotFound):
		if err := reg.Validate(rules); err != nil {
			return fail(err)
		}
		if err := store.CreatePlugin(ctx, t.ID, &reg, actor); errors.Is(err, model.ErrConflict) {
			return false, nil // deleted by a gestor: respect that
		} else if err != nil {
			return fail(err)
		}
		p = &reg
	case err != nil:
		return fail(err)
	case p.Type == model.PluginIframe && strings.HasSuffix(p.URL, "/demo/frame/"+FinanceiroSlug):
		p, err = store.UpdatePlugin(ctx, t.ID, FinanceiroSlug, p.Version, actor, model.AuditPluginUpdate, func(q *model.Plugin) error {
			id, created, version := q.ID, q.CreatedAt, q.Version
			*q = reg
			q.ID, q.TenantID, q.CreatedAt, q.Version = id, t.ID, created, version
			return q.Validate(rules)
		})
		if err != nil {
			return fail(err)
		}
	case p.Type != model.PluginWasm || p.ActiveVersion != "":
		return false, nil
	}
	keys := make([]string, 0)
	cfg := erp.DemoPluginConfig(f.APIURL)
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	values := make([]model.ConfigValue, 0, len(keys))
	for _, k := range keys {
		v := model.ConfigValue{Key: k, Type: model.ConfigString, Value: cfg[k]}
		if err := v.Validate(); err != nil {
			return fail(err)
		}
		values = append(values, v)
	}
	if err := store.ReplacePluginConfig(ctx, t.ID, FinanceiroSlug, p.Version, values, actor); err != nil {
		return fail(err)
	}
	for name, value := range map[string]string{"erp_usuario": f.User, "erp_senha": f.Password} {
		sealed, err := f.Box.Seal(t.ID, p.ID, name, []byte(value))
		if err != nil {
			return fail(err)
		}
		if err := store.PutSecret(ctx, t.ID, p.ID, FinanceiroSlug, name, sealed, actor); err != nil {
			return fail(err)
		}
	}
	if err := installModule(ctx, store, t.ID, p.ID, f.Module, f.Check); err != nil {
		return fail(err)
	}
	return true, nil
}
