package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// Runtime is what the version operations need of the wasm runtime, so
// the service does not import it; admin.Runtime adapts host/sandbox's
// engine. Wasm modules are uploaded (checked by the runtime before
// anything is stored), listed, activated and rolled back one step.
type Runtime interface {
	// MaxModuleBytes is the largest module CheckModule accepts.
	MaxModuleBytes() int
	// CheckModule compiles and checks module under the limits plugin p
	// will run it with, and returns the plugin ABI version it speaks. A
	// refused module's error is the runtime's (the edge classifies it).
	CheckModule(ctx context.Context, module []byte, p *model.Plugin) (abiVersion int, err error)
	// Evict drops this process's pooled instances of a version that
	// stopped being active.
	Evict(tenantID, versionID string)
}

// Errors of the version operations that the handlers map to HTTP answers.
var (
	ErrModuleEmpty    = errors.New("the uploaded module is empty")
	ErrModuleTooLarge = errors.New("the uploaded module is larger than the runtime accepts")
	ErrNoRuntime      = errors.New("the wasm runtime is not available in this process")
	ErrCheckBusy      = errors.New("too many module checks in progress")
	// ErrPluginMissing is model.ErrNotFound for the plugin itself, as
	// opposed to one of its versions.
	ErrPluginMissing = fmt.Errorf("plugin: %w", model.ErrNotFound)
)

// plugin loads the live plugin slug of tenantID.
func (s *Service) versionedPlugin(ctx context.Context, tenantID, slug string) (*model.Plugin, error) {
	p, err := s.store.PluginBySlug(ctx, tenantID, slug)
	if errors.Is(err, model.ErrNotFound) {
		return nil, ErrPluginMissing
	}
	return p, err
}

// DuplicateError says the uploaded module is byte for byte an existing
// version of the plugin.
type DuplicateError struct{ Number int }

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("the module is already version %d of this plugin", e.Number)
}

// moduleChecks bounds concurrent module compilations in this process: a
// cold compile takes one core for up to a couple of seconds, and gestors of
// every tenant share the cores with the portal.
var moduleChecks = make(chan struct{}, 2)

// MaxChecksPerTenant bounds the module checks of one tenant in progress in
// this process, below len(moduleChecks): one tenant's uploads (hostile
// modules that compile or initialise slowly) can never hold every slot
// and starve the others.
const MaxChecksPerTenant = 1

// tenantChecks holds one semaphore per tenant with checks in progress or
// waiting; an entry is removed when its last user leaves.
var tenantChecks = struct {
	sync.Mutex
	gates map[string]*tenantGate
}{gates: map[string]*tenantGate{}}

type tenantGate struct {
	slots chan struct{}
	users int // checks holding or waiting for a slot
}

// tenantGateFor returns tenantID's gate, counting the caller as a user;
// leaveTenantGate must follow.
func tenantGateFor(tenantID string) *tenantGate {
	tenantChecks.Lock()
	defer tenantChecks.Unlock()
	g := tenantChecks.gates[tenantID]
	if g == nil {
		g = &tenantGate{slots: make(chan struct{}, MaxChecksPerTenant)}
		tenantChecks.gates[tenantID] = g
	}
	g.users++
	return g
}

func leaveTenantGate(tenantID string, g *tenantGate) {
	tenantChecks.Lock()
	defer tenantChecks.Unlock()
	if g.users--; g.users == 0 {
		delete(tenantChecks.gates, tenantID)
	}
}

// checkQueueWait is how long an upload waits for a free check slot before
// it is answered 503 module_check_busy.
const checkQueueWait = 30 * time.Second

// UploadVersion checks module with the runtime and, when it is a valid module of
// the host's ABI, stores it as the plugin's next version; with activate it
// becomes the active version at once. Nothing is stored when the check
// fails (the error is then the runtime's refusal or one of the Err values
// above).
func (s *Service) UploadVersion(ctx context.Context, tenantID, slug string, module []byte, activate bool, a model.Actor) (*model.PluginVersion, *model.Plugin, error) {
	p, err := s.versionedPlugin(ctx, tenantID, slug)
	if err != nil {
		return nil, nil, err
	}
	if p.Type != model.PluginWasm {
		return nil, nil, storage.ErrNotWasm
	}
	switch {
	case len(module) == 0:
		return nil, nil, ErrModuleEmpty
	case s.runtime == nil:
		return nil, nil, ErrNoRuntime
	case len(module) > s.runtime.MaxModuleBytes():
		return nil, nil, ErrModuleTooLarge
	}
	sum := sha256.Sum256(module)
	hexSum := hex.EncodeToString(sum[:])
	existing, err := s.store.PluginVersions(ctx, tenantID, p.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, v := range existing {
		if v.SHA256 == hexSum {
			return nil, nil, &DuplicateError{Number: v.Number}
		}
	}
	abiVersion, err := s.check(ctx, tenantID, module, p)
	if err != nil {
		return nil, nil, err
	}
	v := &model.PluginVersion{ABIVersion: abiVersion}
	if err := s.store.CreatePluginVersion(ctx, tenantID, p.ID, v, module, a); err != nil {
		return nil, nil, err
	}
	s.log.Info("plugin version uploaded", "tenant_id", tenantID, "plugin", p.Slug, "number", v.Number,
		"sha256", v.SHA256, "size_bytes", v.SizeBytes, "actor", a.Label)
	if activate {
		p, err = s.activate(ctx, tenantID, p, v.ID, a)
		if err != nil {
			return v, nil, fmt.Errorf("activate version %d: %w", v.Number, err)
		}
	}
	return v, p, nil
}

// check runs the runtime's module check under plugin p's limits (the ones
// the module will run with), at most len(moduleChecks) at a time in
// this process and MaxChecksPerTenant at a time for tenantID; a check that
// found no slot within checkQueueWait fails with ErrCheckBusy.
func (s *Service) check(ctx context.Context, tenantID string, module []byte, p *model.Plugin) (int, error) {
	wait := time.NewTimer(checkQueueWait)
	defer wait.Stop()
	g := tenantGateFor(tenantID)
	defer leaveTenantGate(tenantID, g)
	for _, slots := range []chan struct{}{g.slots, moduleChecks} {
		select {
		case slots <- struct{}{}:
		case <-wait.C:
			return 0, ErrCheckBusy
		case <-ctx.Done():
			return 0, ErrCheckBusy
		}
		defer func() { <-slots }()
	}
	n, err := s.runtime.CheckModule(ctx, module, p)
	if err != nil {
		return 0, fmt.Errorf("check module: %w", err)
	}
	return n, nil
}

// Versions returns the wasm plugin slug and its versions, newest first.
func (s *Service) Versions(ctx context.Context, tenantID, slug string) (*model.Plugin, []model.PluginVersion, error) {
	p, err := s.versionedPlugin(ctx, tenantID, slug)
	if err != nil {
		return nil, nil, err
	}
	if p.Type != model.PluginWasm {
		return p, nil, storage.ErrNotWasm
	}
	vers, err := s.store.PluginVersions(ctx, tenantID, p.ID)
	if err != nil {
		return nil, nil, err
	}
	return p, vers, nil
}

// ActivateVersion makes versionID the plugin's active version; the one it
// replaces becomes the rollback target.
func (s *Service) ActivateVersion(ctx context.Context, tenantID, slug, versionID string, a model.Actor) (*model.Plugin, error) {
	p, err := s.versionedPlugin(ctx, tenantID, slug)
	if err != nil {
		return nil, err
	}
	return s.activate(ctx, tenantID, p, versionID, a)
}

func (s *Service) activate(ctx context.Context, tenantID string, p *model.Plugin, versionID string, a model.Actor) (*model.Plugin, error) {
	old := p.ActiveVersion
	np, err := s.store.ActivatePluginVersion(ctx, tenantID, p.ID, versionID, a)
	if err != nil {
		return nil, err
	}
	s.evict(tenantID, old, np.ActiveVersion)
	return np, nil
}

// Rollback swaps the plugin's active and previous versions.
func (s *Service) Rollback(ctx context.Context, tenantID, slug string, a model.Actor) (*model.Plugin, error) {
	p, err := s.versionedPlugin(ctx, tenantID, slug)
	if err != nil {
		return nil, err
	}
	old := p.ActiveVersion
	np, err := s.store.RollbackPluginVersion(ctx, tenantID, p.ID, a)
	if err != nil {
		return nil, err
	}
	s.evict(tenantID, old, np.ActiveVersion)
	return np, nil
}

// evict drops the runtime's pooled instances of the version that stopped
// being active, in this process. Other processes key their pools by version
// too, so they never run it again either; their copies age out.
func (s *Service) evict(tenantID, old, now string) {
	if s.runtime != nil && old != "" && old != now {
		s.runtime.Evict(tenantID, old)
	}
}
