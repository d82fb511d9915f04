// Package sandbox runs Portico's wasm plugins: it compiles and checks modules
// against ABI v1 (package sdk/abi), keeps a warm pool of instances per
// (tenant, plugin version), runs each call under hard limits with a memory
// snapshot restored between calls, provides the granted host functions
// (HTTP to an allow-list, key-value store, secrets, logging) and keeps each
// plugin's health and circuit breaker.
//
// The design, its measurements and its guarantees are in
// docs/design-runtime.md.
package sandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/portico-dev/portico/internal/inflight"
	"github.com/portico-dev/portico/sdk/abi"
)

// Resolver looks up the addresses of a host name; *net.Resolver is one.
// Tests substitute a fake so that no real DNS is ever queried.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Options configure an Engine.
type Options struct {
	// CacheDir is the directory of the on-disk compilation cache; "" keeps
	// compiled code in memory only.
	CacheDir string
	// CacheMaxBytes bounds the files under CacheDir (default
	// DefaultCacheMaxBytes): past it, at start and every ten minutes, the
	// least recently written are removed until half of it is left.
	CacheMaxBytes int64
	// Log receives the engine's own records (failed calls, closed
	// instances, service errors); nil is slog.Default().
	Log *slog.Logger
	// PluginLog receives the lines plugins write with the log grant, at
	// the level they chose, with tenant_id, plugin_id and plugin_slug; nil
	// is Log. Every line is kept in the plugin's Health either way.
	PluginLog *slog.Logger
	// Services back the kv and secrets host functions; nil makes those
	// calls fail with abi.ErrUpstream.
	Services Services

	// Resolver resolves host names for the http host function; nil uses
	// net.DefaultResolver.
	Resolver Resolver
	// PrivateNetworks are the operator's half of the private-network rule
	// (config.Config.PrivatePluginNetworks): the non-public addresses a
	// plugin with Plugin.AllowPrivateNetwork may connect to, for example an
	// ERP on the operator's own network or the demo's fake ERP on
	// 127.0.0.1. The plugin still needs the origin in its AllowedHosts.
	// Every other non-public address is refused (see isPublic).
	PrivateNetworks []netip.Prefix
	// BreakerThreshold is the number of consecutive failed calls that opens
	// a plugin's circuit breaker (default DefaultBreakerThreshold).
	BreakerThreshold int
	// BreakerPeople is how many different people's calls the run of
	// failures must include before it opens the breaker (default
	// DefaultBreakerPeople; 1 counts anyone's). A breaker pauses a plugin
	// for everyone, so one customer whose input makes it fail (a panic,
	// an ERP call that hangs for that contract) must not be able to pause
	// it for the others: their own calls keep failing, and the other
	// people's succeed and end the run.
	BreakerPeople int
	// BreakerCooldown is how long an open breaker pauses the plugin before
	// one trial call is let through (default DefaultBreakerCooldown); it
	// doubles after each failed trial, up to MaxBreakerCooldown.
	BreakerCooldown time.Duration
	// PoolSize is the number of warm idle instances a (tenant, plugin
	// version) is given ahead of its calls: preloaded, and refilled in the
	// background after a discard (default DefaultPoolSize). After a call,
	// up to the plugin's MaxConcurrent idle instances are kept (at least
	// PoolSize), so a plugin in steady concurrent use never instantiates.
	PoolSize int

	// IdleTimeout is how long an idle instance is kept before it is
	// closed (default DefaultIdleTimeout).
	IdleTimeout time.Duration
	// MaxExecutions bounds the calls running at once in the process
	// (default DefaultMaxExecutions()); MaxTenantExecutions bounds those of
	// one tenant (default TenantSharePercent of MaxExecutions, rounded
	// up). Calls beyond either wait their plugin's QueueWait, then fail
	// with ReasonOverloaded.
	MaxExecutions, MaxTenantExecutions int
	// MaxInstanceMemoryMB bounds the sum of the memory limits of all live
	// instances (default DefaultMaxInstanceMemoryMB);
	// MaxTenantInstanceMemoryMB bounds those of one tenant's instances
	// (default TenantSharePercent of it, so that one tenant cannot take it
	// all, and never less than MaxMemoryMB: one instance of the largest
	// limit); see budget.go.
	MaxInstanceMemoryMB, MaxTenantInstanceMemoryMB int
	// TenantSharePercent is the default of the two per-tenant bounds
	// above, in per cent of the process's (1 to 100, default
	// DefaultTenantSharePercent): 100 on an installation that serves one
	// company (PORTICO_WASM_TENANT_SHARE).
	TenantSharePercent int
}

// DefaultTenantSharePercent is Options.TenantSharePercent's default: one
// tenant's plugins may hold half of the runtime.
const DefaultTenantSharePercent = 50

// Circuit breaker and pool defaults.
const (
	DefaultBreakerThreshold = 5
	DefaultBreakerPeople    = 3
	DefaultBreakerCooldown  = 30 * time.Second
	MaxBreakerCooldown      = 5 * time.Minute
	DefaultPoolSize         = 2
)

// MaxModuleBytes is the largest module Check accepts (16 MiB; a Go guest
// with encoding/json and a view is 2–4 MiB).
const MaxModuleBytes = 16 << 20

// KV limits: the sandbox checks key and value sizes; the storage behind
// Services enforces the count and byte quota per (tenant, plugin) and
// returns ErrKVQuota.
const (
	MaxKVKey   = abi.MaxKVKey
	MaxKVValue = abi.MaxKVValue
	MaxKVKeys  = abi.MaxKVKeys
	MaxKVBytes = abi.MaxKVBytes
)

// ErrKVQuota is returned by Services.KVSet when the plugin's quota is full.
var ErrKVQuota = errors.New("kv quota exceeded")

// ErrServiceUnavailable marks a Services error that means the backing
// store cannot be reached for now (the database restarting): the plugin
// is told its host call failed, as for any failure, but the host logs it
// as a warning, since the edge already reports the outage (and every
// call in it would otherwise log an error).
var ErrServiceUnavailable = errors.New("service unavailable")

// Services are the durable backends the host functions use.
// Implementations must scope every call by (tenantID, pluginID).
type Services interface {
	KVGet(ctx context.Context, tenantID, pluginID, key string) (value []byte, found bool, err error)
	KVSet(ctx context.Context, tenantID, pluginID, key string, value []byte) error
	KVDelete(ctx context.Context, tenantID, pluginID, key string) error
	// KVUpdate applies change to key's current value atomically: no other
	// write of the key interleaves between the read change is given and
	// the write of its result. change may be called more than once (when
	// another writer got in first, it is asked again with the value then
	// current); only its last result counts. change returning write
	// false, or an error (returned as it is), stores nothing; the quota
	// applies as for KVSet.
	KVUpdate(ctx context.Context, tenantID, pluginID, key string, change func(old []byte, found bool) (value []byte, write bool, err error)) error
	Secret(ctx context.Context, tenantID, pluginID, name string) (value string, found bool, err error)
}

// Plugin identifies what to run and under which limits and grants.
type Plugin struct {
	TenantID, PluginID, Slug, Title string
	// VersionID is the plugin_versions row: with TenantID, the pool key.
	VersionID    string
	Limits       Limits
	Grants       []string // "http", "kv", "config", "secrets", "log"
	AllowedHosts []string // exact scheme://host[:port] origins
	// AllowPrivateNetwork lets the plugin connect to the non-public
	// addresses in Options.PrivateNetworks (the gestor's half of the rule).
	AllowPrivateNetwork bool
	// PrivateNetworks are private addresses open to this plugin besides
	// Options.PrivateNetworks: the operator's entries for its tenant, on an
	// installation where each company's ERP is open to its own plugins
	// only. Plugins with different lists never share a pooled connection.
	PrivateNetworks []netip.Prefix
	// Unrecorded marks a call the host makes for itself, such as the
	// admin page's settings call (abi.KindSettings): the circuit breaker
	// neither refuses it nor hears of it, and it counts in no health
	// figure, so a gestor reading the page can neither pause a plugin,
	// nor close its breaker, nor push its customers' errors out of the
	// health page. It still takes a concurrency slot and the budgets.
	Unrecorded bool
	// Accept, when set, judges the output once the guest has returned (the
	// portal's view policy): a refusal fails the call as malformed with
	// its error as the detail, counted in the health and by the breaker
	// like output the sandbox itself refuses, so a gestor reading the
	// health page sees why customers were shown an error (by the breaker
	// too, unless the error is wrapped in HealthOnly).
	Accept func(*abi.Output) error
}

// Grant names (the plugin contract's abi.Grant*).
const (
	GrantHTTP    = abi.GrantHTTP
	GrantKV      = abi.GrantKV
	GrantConfig  = abi.GrantConfig
	GrantSecrets = abi.GrantSecrets
	GrantLog     = abi.GrantLog
)

// ModuleError says why a module was refused. Code is one of "not_wasm",
// "too_large", "start_section" (the module has a start function),
// "too_complex" (a structure bound of structure.go is passed),
// "table_write" (the code changes a table, see writesTable), "compile",
// "compile_timeout", "missing_export", "abi_version", "bad_import", "init",
// "init_timeout" (_initialize or portico_abi_version passed the deadline).
// Detail is English for logs; Want and Got carry the ABI versions for
// "abi_version".
type ModuleError struct {
	Code, Detail string
	Want, Got    int
}

func (e *ModuleError) Error() string {
	if e.Code == "abi_version" {
		return fmt.Sprintf("module refused: abi_version: the module speaks ABI version %d, this host speaks version %d", e.Got, e.Want)
	}
	return "module refused: " + e.Code + ": " + e.Detail
}

// Reasons of a failed call.
const (
	ReasonTimeout   = "timeout"
	ReasonMemory    = "memory"
	ReasonTrap      = "trap"
	ReasonMalformed = "malformed"
	ReasonBusy      = "busy"
	ReasonPaused    = "paused"
	ReasonLoad      = "load"
	ReasonHostCalls = "host_calls"
	// ReasonUnavailable: the module could not be loaded because the store
	// behind the loader is unreachable (the loader's error wraps
	// ErrServiceUnavailable). Like busy, it is not the plugin's fault: it
	// never opens the circuit breaker.
	ReasonUnavailable = "unavailable"
)

// CallError classifies a failed call. Reason is one of the Reason
// constants; Detail is English for logs and the plugin's health page.
type CallError struct {
	Reason, Detail string
	// healthOnly marks a failure the health counts but the breaker does
	// not (HealthOnly).
	healthOnly bool
}

// HealthOnly marks an error Plugin.Accept returns as one the plugin's
// health counts but its circuit breaker does not: the refusal of a home
// card's view, which the portal leaves out of the home, must not pause
// the plugin's own page for everyone.
func HealthOnly(err error) error { return healthOnlyError{err} }

type healthOnlyError struct{ error }

func (e healthOnlyError) Unwrap() error { return e.error }

func (e *CallError) Error() string { return "plugin call failed: " + e.Reason + ": " + e.Detail }

// Info describes a module that passed Check.
type Info struct {
	ABIVersion int      `json:"abi_version"`
	SHA256     string   `json:"sha256"`
	Size       int      `json:"size"`
	Exports    []string `json:"exports"` // sorted
	Imports    []string `json:"imports"` // "module.name", each once, sorted
}

// Engine runs plugins. It is safe for concurrent use.
type Engine struct {
	opts  Options
	log   *slog.Logger
	rt    wazero.Runtime
	cache wazero.CompilationCache
	// http dials public addresses only; httpPrivate, used by plugins with
	// AllowPrivateNetwork, also dials Options.PrivateNetworks. They are
	// separate transports so that a plugin without the setting can never
	// reuse a pooled connection to a private address.
	http, httpPrivate *http.Client
	// httpScoped holds a client per distinct Plugin.PrivateNetworks (by
	// the list's text), made on first use; the operator's configuration
	// bounds how many there are.
	httpScoped sync.Map

	mu       sync.Mutex
	compiled map[string]*compiled // by sha256
	// compiling holds the modules being compiled (by sha256), closed when
	// done: the same bytes are never compiled twice at once. wazero shares
	// the code of identical bytes within a runtime and, on a hit in its
	// on-disk cache, publishes the module before it is fully set up, so a
	// concurrent compile of the same bytes could get a half-initialised
	// module (seen: four concurrent first calls of one plugin crashing in
	// wazero's NewFunction, or hanging).
	compiling map[string]chan struct{}
	pools     map[poolKey]*pool
	plugins   map[pluginKey]*pluginState
	closed    bool
	// work counts what uses the runtimes: calls, checks, preloads, the
	// sweeper and background refills (see enter). Close waits for it.
	work inflight.Counter
	// discards counts instances thrown away after a failure or wear.
	discards atomic.Int64
	// copyReset makes new instances use the portable copy reset even
	// where copy-on-write memories are available (tests run both).
	copyReset bool
	// rtSafe runs the modules instrument could not rewrite: its deadline is
	// enforced by wazero's CloseOnContextDone (slower; see instrument.go).
	rtSafe wazero.Runtime

	// budget holds the process-wide budgets (budget.go); evictions counts
	// idle instances closed to make room in it.
	budget    *budget
	evictions atomic.Int64
	// stopSweep stops the idle sweeper.
	stopSweep chan struct{}
	// base is the parent of every call's, check's and refill's context
	// (see enter); Close cancels it when its own context ends before the
	// work under way does.
	base       context.Context
	cancelBase context.CancelCauseFunc
}

type poolKey struct{ tenant, version string }
type pluginKey struct{ tenant, plugin string }

// New creates an Engine.
func New(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.PluginLog == nil {
		opts.PluginLog = opts.Log
	}
	if opts.BreakerThreshold <= 0 {
		opts.BreakerThreshold = DefaultBreakerThreshold
	}
	if opts.CacheMaxBytes <= 0 {
		opts.CacheMaxBytes = DefaultCacheMaxBytes
	}
	if opts.BreakerPeople <= 0 {
		opts.BreakerPeople = DefaultBreakerPeople
	}
	if opts.BreakerCooldown <= 0 {
		opts.BreakerCooldown = DefaultBreakerCooldown
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = DefaultPoolSize
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxExecutions <= 0 {
		opts.MaxExecutions = DefaultMaxExecutions()
	}
	switch {
	case opts.TenantSharePercent <= 0:
		opts.TenantSharePercent = DefaultTenantSharePercent
	case opts.TenantSharePercent > 100:
		opts.TenantSharePercent = 100
	}
	share := func(n int) int { return max(1, (n*opts.TenantSharePercent+99)/100) }
	if opts.MaxTenantExecutions <= 0 {
		opts.MaxTenantExecutions = share(opts.MaxExecutions)
	}
	opts.MaxTenantExecutions = min(opts.MaxTenantExecutions, opts.MaxExecutions)
	if opts.MaxInstanceMemoryMB <= 0 {
		opts.MaxInstanceMemoryMB = DefaultMaxInstanceMemoryMB
	}
	if opts.MaxTenantInstanceMemoryMB <= 0 {
		// Never below one instance of the largest limit a gestor may set:
		// a smaller share would refuse every call of such a plugin.
		opts.MaxTenantInstanceMemoryMB = max(share(opts.MaxInstanceMemoryMB), min(MaxMemoryMB, opts.MaxInstanceMemoryMB))
	}
	opts.MaxTenantInstanceMemoryMB = min(opts.MaxTenantInstanceMemoryMB, opts.MaxInstanceMemoryMB)
	var cache wazero.CompilationCache
	if opts.CacheDir != "" {
		trimCacheLogged(opts.Log, opts.CacheDir, opts.CacheMaxBytes)
		c, err := wazero.NewCompilationCacheWithDir(opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("open compilation cache %q: %w", opts.CacheDir, err)
		}
		cache = c
	} else {
		cache = wazero.NewCompilationCache()
	}
	// The main runtime runs instrumented modules, which stop at their
	// deadline by themselves (instrument.go); the safe one enforces it with
	// CloseOnContextDone for modules that could not be instrumented.
	newRuntime := func(closeOnDone bool) wazero.Runtime {
		return wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
			WithCompilationCache(cache).
			WithCloseOnContextDone(closeOnDone).
			WithMemoryLimitPages(uint32(MaxMemoryMB*16))) // backstop; the per-plugin limit is the allocator's
	}
	e := &Engine{
		opts:      opts,
		log:       opts.Log,
		rt:        newRuntime(false),
		rtSafe:    newRuntime(true),
		cache:     cache,
		compiled:  map[string]*compiled{},
		compiling: map[string]chan struct{}{},
		pools:     map[poolKey]*pool{},
		plugins:   map[pluginKey]*pluginState{},
		budget:    newBudget(opts),
		stopSweep: make(chan struct{}),
	}
	closeAll := func() {
		_ = e.rt.Close(ctx)
		_ = e.rtSafe.Close(ctx)
	}
	for _, rt := range []wazero.Runtime{e.rt, e.rtSafe} {
		if err := instantiateWASI(ctx, rt); err != nil {
			closeAll()
			return nil, err
		}
		_, err := rt.NewHostModuleBuilder(abi.ImportModule).
			NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(e.hostCall),
			[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).Export(abi.ImportCall).
			NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(e.hostResult),
			[]api.ValueType{api.ValueTypeI32}, nil).Export(abi.ImportResult).
			Instantiate(ctx)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("instantiate host module: %w", err)
		}
	}
	if err := e.initHTTP(); err != nil {
		closeAll()
		return nil, err
	}
	e.base, e.cancelBase = context.WithCancelCause(context.Background())
	e.work.Add()
	go e.sweeper(e.stopSweep)
	return e, nil
}

// errEngineClosing ends the work still under way when Close's context
// ends.
var errEngineClosing = errors.New("engine closing")

// enter registers one piece of work that uses the runtimes (a call, a
// check, a preload) and returns its context, which also ends if Close
// gives up waiting, and the function that ends the work; after Close it
// refuses. Close waits for the work under way before it closes the
// runtimes: wazero's engine panics when a module compiling in another
// goroutine is added to it after it closed, and a call may outlive the
// request that started it (the plugin list's settings checks, the home's
// late cards).
func (e *Engine) enter(ctx context.Context) (context.Context, func(), error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, nil, errors.New("engine closed")
	}
	e.work.Add()
	e.mu.Unlock()
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(e.base, func() { cancel(context.Cause(e.base)) })
	return ctx, func() {
		stop()
		cancel(nil)
		e.work.Done()
	}, nil
}

// Close stops the engine: new work is refused, and the calls, checks,
// preloads and refills under way may finish until ctx ends; then they are
// told to stop (a guest stops at its next instrumented check) and waited
// for, and every instance and the runtimes are closed. The runtimes are
// never closed under a compile or a call.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.stopSweep)
	pools := e.pools
	e.pools = map[poolKey]*pool{}
	e.mu.Unlock()
	if e.work.Wait(ctx) != nil { // ctx ended first: stop the rest, then wait for it
		e.cancelBase(errEngineClosing)
		_ = e.work.Wait(context.Background())
	}
	e.cancelBase(errEngineClosing)
	ctx = context.WithoutCancel(ctx) // closing is not optional
	for _, p := range pools {
		p.drain(ctx)
	}
	e.closeHTTP()
	err := e.rt.Close(ctx)
	if serr := e.rtSafe.Close(ctx); err == nil {
		err = serr
	}
	if cerr := e.cache.Close(ctx); err == nil {
		err = cerr
	}
	return err
}

// randSource is the guests' random source (wazero's default is
// deterministic, which a snapshot would replay to every user).
var randSource = rand.Reader
