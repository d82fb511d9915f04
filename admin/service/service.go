// Package service is the admin's one place of change: validation,
// versioning, audit and module checks for everything a gestor (through the
// admin API or UI) or an operator (through the CLI) changes. Every write
// goes through a Service; the edges (admin/api, admin/ui) read through the
// store and map errors to answers (admin.Classify). It knows no HTTP and
// does not import the wasm runtime: module checks go through Runtime.
//
//	svc := service.New(service.Deps{Store: store, Box: box, Launch: launchSvc, Runtime: rt, Log: log})
//	k, key, err := svc.NewAPIKey(ctx, tenantID, "erp", []string{"admin"}, actor)
package service

import (
	"errors"
	"log/slog"
	"time"

	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/storage"
)

// Deps are what a Service is built from. Only Store is required; an
// operation whose dependency is missing fails with a clear error instead
// of building its own.
type Deps struct {
	Store *storage.Store
	// Box encrypts plugin secrets; nil: PutSecret fails (the CLI creates
	// API keys without one).
	Box *secret.Box
	// Launch manages the tenants' token signing keys. It must be the
	// service the host's launch endpoints use, so its key cache sees a
	// rotation at once; nil: signing keys are unavailable.
	Launch *launch.Service
	// Runtime checks uploaded modules; nil: uploads are unavailable.
	Runtime Runtime
	Log     *slog.Logger // nil: slog.Default()
	// Demo allows http:// plugin URLs on localhost.
	Demo bool
}

// Service holds every admin operation. The UI, the API and the CLI call
// it, so there is one validation and one audit trail whatever the entry
// point. Its dependencies are fixed at New.
type Service struct {
	store   *storage.Store
	box     *secret.Box
	launch  *launch.Service
	runtime Runtime
	log     *slog.Logger
	demo    bool
}

// New returns a Service over d.
func New(d Deps) *Service {
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: d.Store, box: d.Box, launch: d.Launch, runtime: d.Runtime, log: log, demo: d.Demo}
}

// ResetLinkTTL is how long a password reset link works.
const ResetLinkTTL = 24 * time.Hour

// Errors the handlers map to HTTP statuses.
var (
	ErrSlugTaken     = errors.New("slug already used by a plugin of this tenant (deleted ones included)")
	ErrEmailTaken    = errors.New("e-mail already used by a user of this tenant")
	ErrVersionNeeded = errors.New("version is required to change a record")
)
