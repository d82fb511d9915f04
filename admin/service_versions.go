package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// Versions manages the uploaded modules of wasm plugins: upload (checked by
// the runtime before anything is stored), listing, activation, one-step
// rollback and the runtime's health counters. The UI and the API both call
// it, like Service.
type Versions struct {
	Store  *storage.Store
	Engine *sandbox.Engine // nil: uploads and health are unavailable
	Log    *slog.Logger

	// checkModule replaces Engine.CheckUnder in tests that need a check
	// which holds its slot until told to finish.
	checkModule func(ctx context.Context, module []byte, lim sandbox.Limits) (*sandbox.Info, error)
}

// Errors of the version operations that the handlers map to HTTP answers.
var (
	ErrModuleEmpty    = errors.New("the uploaded module is empty")
	ErrModuleTooLarge = fmt.Errorf("the uploaded module is larger than %d bytes", sandbox.MaxModuleBytes)
	ErrNoRuntime      = errors.New("the wasm runtime is not available in this process")
	ErrCheckBusy      = errors.New("too many module checks in progress")
	// ErrPluginMissing is model.ErrNotFound for the plugin itself, as
	// opposed to one of its versions.
	ErrPluginMissing = fmt.Errorf("plugin: %w", model.ErrNotFound)
)

// plugin loads the live plugin slug of tenantID.
func (vs *Versions) plugin(ctx context.Context, tenantID, slug string) (*model.Plugin, error) {
	p, err := vs.Store.PluginBySlug(ctx, tenantID, slug)
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

// Upload checks module with the runtime and, when it is a valid module of
// the host's ABI, stores it as the plugin's next version; with activate it
// becomes the active version at once. Nothing is stored when the check
// fails (the error is then a *sandbox.ModuleError or one of the Err values
// above).
func (vs *Versions) Upload(ctx context.Context, tenantID, slug string, module []byte, activate bool, a model.Actor) (*model.PluginVersion, *model.Plugin, error) {
	p, err := vs.plugin(ctx, tenantID, slug)
	if err != nil {
		return nil, nil, err
	}
	if p.Type != model.PluginWasm {
		return nil, nil, storage.ErrNotWasm
	}
	switch {
	case len(module) == 0:
		return nil, nil, ErrModuleEmpty
	case len(module) > sandbox.MaxModuleBytes:
		return nil, nil, ErrModuleTooLarge
	}
	if vs.Engine == nil {
		return nil, nil, ErrNoRuntime
	}
	sum := sha256.Sum256(module)
	hexSum := hex.EncodeToString(sum[:])
	existing, err := vs.Store.PluginVersions(ctx, tenantID, p.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, v := range existing {
		if v.SHA256 == hexSum {
			return nil, nil, &DuplicateError{Number: v.Number}
		}
	}
	info, err := vs.check(ctx, tenantID, module, runner.SandboxPlugin(p).Limits)
	if err != nil {
		return nil, nil, err
	}
	v := &model.PluginVersion{ABIVersion: info.ABIVersion}
	if err := vs.Store.CreatePluginVersion(ctx, tenantID, p.ID, v, module, a); err != nil {
		return nil, nil, err
	}
	vs.Log.Info("plugin version uploaded", "tenant_id", tenantID, "plugin", p.Slug, "number", v.Number,
		"sha256", v.SHA256, "size_bytes", v.SizeBytes, "actor", a.Label)
	if activate {
		p, err = vs.activate(ctx, tenantID, p, v.ID, a)
		if err != nil {
			return v, nil, fmt.Errorf("activate version %d: %w", v.Number, err)
		}
	}
	return v, p, nil
}

// check runs the runtime's module check under the plugin's limits lim (the
// ones the module will run with), at most len(moduleChecks) at a time in
// this process and MaxChecksPerTenant at a time for tenantID; a check that
// found no slot within checkQueueWait fails with ErrCheckBusy.
func (vs *Versions) check(ctx context.Context, tenantID string, module []byte, lim sandbox.Limits) (*sandbox.Info, error) {
	wait := time.NewTimer(checkQueueWait)
	defer wait.Stop()
	g := tenantGateFor(tenantID)
	defer leaveTenantGate(tenantID, g)
	for _, slots := range []chan struct{}{g.slots, moduleChecks} {
		select {
		case slots <- struct{}{}:
		case <-wait.C:
			return nil, ErrCheckBusy
		case <-ctx.Done():
			return nil, ErrCheckBusy
		}
		defer func() { <-slots }()
	}
	checkModule := vs.checkModule
	if checkModule == nil {
		checkModule = vs.Engine.CheckUnder
	}
	info, err := checkModule(ctx, module, lim)
	if err != nil {
		return nil, fmt.Errorf("check module: %w", err)
	}
	return info, nil
}

// List returns the plugin and its versions, newest first.
func (vs *Versions) List(ctx context.Context, tenantID, slug string) (*model.Plugin, []model.PluginVersion, error) {
	p, err := vs.plugin(ctx, tenantID, slug)
	if err != nil {
		return nil, nil, err
	}
	if p.Type != model.PluginWasm {
		return p, nil, storage.ErrNotWasm
	}
	vers, err := vs.Store.PluginVersions(ctx, tenantID, p.ID)
	if err != nil {
		return nil, nil, err
	}
	return p, vers, nil
}

// Activate makes versionID the plugin's active version; the one it
// replaces becomes the rollback target.
func (vs *Versions) Activate(ctx context.Context, tenantID, slug, versionID string, a model.Actor) (*model.Plugin, error) {
	p, err := vs.plugin(ctx, tenantID, slug)
	if err != nil {
		return nil, err
	}
	return vs.activate(ctx, tenantID, p, versionID, a)
}

func (vs *Versions) activate(ctx context.Context, tenantID string, p *model.Plugin, versionID string, a model.Actor) (*model.Plugin, error) {
	old := p.ActiveVersion
	np, err := vs.Store.ActivatePluginVersion(ctx, tenantID, p.ID, versionID, a)
	if err != nil {
		return nil, err
	}
	vs.evict(tenantID, old, np.ActiveVersion)
	return np, nil
}

// Rollback swaps the plugin's active and previous versions.
func (vs *Versions) Rollback(ctx context.Context, tenantID, slug string, a model.Actor) (*model.Plugin, error) {
	p, err := vs.plugin(ctx, tenantID, slug)
	if err != nil {
		return nil, err
	}
	old := p.ActiveVersion
	np, err := vs.Store.RollbackPluginVersion(ctx, tenantID, p.ID, a)
	if err != nil {
		return nil, err
	}
	vs.evict(tenantID, old, np.ActiveVersion)
	return np, nil
}

// evict drops the runtime's pooled instances of the version that stopped
// being active, in this process. Other processes key their pools by version
// too, so they never run it again either; their copies age out.
func (vs *Versions) evict(tenantID, old, now string) {
	if vs.Engine != nil && old != "" && old != now {
		vs.Engine.Evict(tenantID, old)
	}
}

// Health returns the runtime's counters of the plugin in this process; ok
// is false when there is no runtime.
func (vs *Versions) Health(tenantID, pluginID string) (sandbox.Health, bool) {
	if vs.Engine == nil {
		return sandbox.Health{}, false
	}
	return vs.Engine.Health(tenantID, pluginID), true
}
