package demo

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// HelloSlug is the slug of the demo's wasm plugin (plugins/hello).
const HelloSlug = "ola"

// HelloPlugin returns the registration of the demo's wasm plugin: visible
// to clientes in the portal, granted its KV store, its configuration and
// the log, and the user's name.
func HelloPlugin() model.Plugin {
	return model.Plugin{
		Slug: HelloSlug, Name: "Olá (plugin WebAssembly de exemplo)", Title: "Olá", Titles: model.Titles{"es": "Hola", "en": "Hello"}, Type: model.PluginWasm,
		Icon: "chat", VisibleTo: model.VisibleCliente, ShowInPortal: true, Active: true,
		Size: model.SizeMedio, AuthType: model.AuthNone, Position: 80,
		TimeoutMS: model.DefaultTimeoutMS, MemoryMB: model.DefaultMemoryMB,
		Grants:     model.StringList{model.GrantKV, model.GrantConfig, model.GrantLog},
		UserFields: model.StringList{model.UserFieldName},
	}
}

// CheckModule verifies a module before it is installed and returns its ABI
// version; the server passes the sandbox's Check.
type CheckModule func(ctx context.Context, module []byte) (abiVersion int, err error)

// InstallHello makes sure the demo tenant has the hello plugin and that it
// runs a module: it registers the plugin when missing and, when the plugin
// has no active version yet, stores the module file at path (checked by
// check) as its first version and activates it. A plugin that already has
// an active version is left alone. It reports whether it installed a
// module.
func InstallHello(ctx context.Context, store *storage.Store, path string, check CheckModule) (bool, error) {
	t, err := store.TenantBySlug(ctx, TenantSlug)
	if err != nil {
		return false, fmt.Errorf("install hello plugin: %w", err)
	}
	p, err := store.PluginBySlug(ctx, t.ID, HelloSlug)
	if errors.Is(err, model.ErrNotFound) {
		reg := HelloPlugin()
		if err := reg.Validate(model.PluginRules{IconExists: icon.Exists, AllowInsecureLocal: true}); err != nil {
			return false, fmt.Errorf("install hello plugin: %w", err)
		}
		if err := store.CreatePlugin(ctx, t.ID, &reg, model.SystemActor("demo")); err != nil {
			return false, fmt.Errorf("install hello plugin: %w", err)
		}
		p = &reg
	} else if err != nil {
		return false, fmt.Errorf("install hello plugin: %w", err)
	}
	if p.ActiveVersion != "" {
		return false, nil
	}
	if err := installModule(ctx, store, t.ID, p.ID, path, check); err != nil {
		return false, fmt.Errorf("install hello plugin: %w", err)
	}
	return true, nil
}

// installModule stores the module file at path, checked by check, as a
// new version of the plugin and activates it.
func installModule(ctx context.Context, store *storage.Store, tenantID, pluginID, path string, check CheckModule) error {
	module, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	abiVersion, err := check(ctx, module)
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	actor := model.SystemActor("demo")
	v := &model.PluginVersion{ABIVersion: abiVersion}
	if err := store.CreatePluginVersion(ctx, tenantID, pluginID, v, module, actor); err != nil {
		return err
	}
	_, err = store.ActivatePluginVersion(ctx, tenantID, pluginID, v.ID, actor)
	return err
}
