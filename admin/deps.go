package admin

import (
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/storage"
)

// Deps are what the admin's two edges (admin/api and admin/ui) are built
// from; host/server fills one and hands it to both.
type Deps struct {
	// Env is the HTTP edge: tenant, session, CSRF, language, client
	// address, login throttles, logs.
	Env *web.Env
	// Store is read directly; every write goes through Service.
	Store   *storage.Store
	Service *service.Service
	// Sandbox is the wasm engine whose health counters the admin shows;
	// nil: none.
	Sandbox *sandbox.Engine
	// Runner runs the settings calls of the plugin pages (Settings);
	// nil: none (no wasm runtime).
	Runner *runner.Runner
	// PrivateNetworkAvailable says whether the operator lets the plugins of
	// the tenant with a slug reach any private address
	// (PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS, config.PrivateNetworkAvailable);
	// nil: none anywhere.
	PrivateNetworkAvailable func(tenantSlug string) bool
}
