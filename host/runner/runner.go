// Package runner connects a wasm plugin's registration to the sandbox: it
// builds the call's abi.Input (opaque user id, role, language, the granted
// profile fields and configuration, the submitted form), runs the plugin's
// active version under the registration's limits and grants, and checks
// what comes back with package view before anyone renders it. Services
// backs the sandbox's kv and secrets host functions with the database.
//
// It imports neither Fiber nor the portal; the portal and the JSON API call
// Run and map a failure's Reason to a status, a code and a message with
// web.RunFailure, the one table of the edge.
package runner

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/view"
	"github.com/portico-dev/portico/sdk/abi"
)

// Reasons of a failed run. The sandbox's reasons (sandbox.Reason*) pass
// through; the runner adds its own.
const (
	// ReasonNotDeployed: the plugin has no active version yet.
	ReasonNotDeployed = "not_deployed"
	// ReasonInvalidInput: the submitted action name or form was refused
	// before the plugin ran (the person's request was bad, not the plugin).
	ReasonInvalidInput = "invalid_input"
	// ReasonUnavailable: the host could not prepare the call (database).
	ReasonUnavailable = "unavailable"
)

// Error is a failed run. Reason is one of the sandbox.Reason* or Reason*
// constants; Detail is English for logs.
type Error struct {
	Reason, Detail string
	Err            error
}

func (e *Error) Error() string { return "run plugin: " + e.Reason + ": " + e.Detail }

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of a run error, or ReasonUnavailable for any
// other error.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonUnavailable
}

// Ran reports whether a failed run got as far as the plugin's code, so
// that what it does outside (an ERP call, a KV write) may have happened:
// it timed out, ran out of memory, crashed, answered something malformed
// or overused host calls. A run refused before the plugin started (busy,
// paused, overloaded, not deployed, bad input, the module not loadable)
// did nothing, and may simply be tried again.
func Ran(err error) bool {
	switch ReasonOf(err) {
	case sandbox.ReasonTimeout, sandbox.ReasonMemory, sandbox.ReasonTrap, sandbox.ReasonMalformed, sandbox.ReasonHostCalls:
		return true
	}
	return false
}

// Engine is the part of *sandbox.Engine the runner uses; tests may fake it.
type Engine interface {
	// Call runs the plugin; it judges the output with p.Accept, when
	// set, before it counts the call a success (sandbox.Engine.Call).
	Call(ctx context.Context, p sandbox.Plugin, load func(context.Context) ([]byte, error), in *abi.Input) (*abi.Output, error)
}

// Options tune a Runner.
type Options struct {
	Log *slog.Logger
	// AllowInsecureLocal lets views link to http://localhost origins (demo).
	AllowInsecureLocal bool
	// Observe, when set, hears of every run of Run: it is called as the
	// run begins, and the function it returns once the run ends, with
	// Outcome's answer. The server counts runs with it (metrics) and waits
	// at shutdown for those under way.
	Observe func(c Call) (end func(outcome string))
	// PrivateNetworks, when set, gives the private addresses the plugins
	// of the tenant with a slug may be allowed besides the engine's list
	// (config.PluginNetworksFor): nil for a tenant without entries of its
	// own.
	PrivateNetworks func(tenantSlug string) []netip.Prefix
}

// OutcomeOK is Outcome's answer for a run that succeeded.
const OutcomeOK = "ok"

// Outcome names a run's result for metrics: OutcomeOK, or the failure's
// Reason (ReasonOf: a small fixed set).
func Outcome(err error) string {
	if err == nil {
		return OutcomeOK
	}
	return ReasonOf(err)
}

// Runner runs wasm plugins for the portal and the API. It is safe for
// concurrent use.
type Runner struct {
	engine Engine
	store  *storage.Store
	log    *slog.Logger
	opts   Options
	people people // each person's share of a plugin's calls (PerPersonInFlight)
}

// New returns a Runner over engine and store.
func New(engine Engine, store *storage.Store, opts Options) *Runner {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Runner{engine: engine, store: store, log: opts.Log, opts: opts, people: people{m: map[string]*personSlots{}}}
}

// Call describes one run: who, as which role, in which language, which
// plugin, and for an action its name and form.
type Call struct {
	Tenant *model.Tenant
	User   *model.User
	// Role is the role the user opened the plugin as: cliente, sindico, or
	// gestor (from the manager panel).
	Role   model.Role
	Locale string
	Plugin *model.Plugin
	// Action is empty for a render.
	Action string
	Form   map[string][]string
	// Card asks for the home card instead of the page (no action).
	Card      bool
	RequestID string
}

// Run runs the plugin's active version and returns its checked output. A
// failure is an *Error. It resolves what the store knows (the user's
// opaque id, granted profile fields and configuration, the module) and
// hands the call to Exec, the run path `portico plugin run` shares.
func (r *Runner) Run(ctx context.Context, c Call) (_ *view.Result, err error) {
	if r.opts.Observe != nil {
		end := r.opts.Observe(c)
		defer func() { end(Outcome(err)) }()
	}
	p := c.Plugin
	if p.Type != model.PluginWasm || p.ActiveVersion == "" {
		return nil, &Error{Reason: ReasonNotDeployed, Detail: "the plugin has no active version"}
	}
	if c.User != nil {
		release, err := r.people.acquire(ctx, p.TenantID+"|"+c.User.ID+"|"+p.ID, sandbox.DefaultQueueWait)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	in, err := r.input(ctx, c)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	ctx, outage := watchOutage(ctx)
	sp := SandboxPlugin(p)
	if r.opts.PrivateNetworks != nil {
		sp.PrivateNetworks = r.opts.PrivateNetworks(c.Tenant.Slug)
	}
	res, err := Exec(ctx, r.engine, Job{
		Plugin: sp,
		Load:   r.moduleLoader(p),
		Input:  in,
		Action: c.Action,
		Form:   c.Form,
		Card:   c.Card,
		Policy: view.Policy{AllowedHosts: p.AllowedHosts, AllowInsecureLocal: r.opts.AllowInsecureLocal},
	})
	if outage.Load() {
		// The database went away during the call: whatever the plugin
		// made of its failed KV or secret read, the person is told the
		// portal is unavailable for a moment (503, Retry-After), as any
		// other request is, rather than shown a half-working page.
		r.log.Warn("plugin call lost the database", "tenant", c.Tenant.Slug, "plugin", p.Slug, "request_id", c.RequestID)
		return nil, &Error{Reason: ReasonUnavailable, Detail: "the database became unreachable during the call", Err: err}
	}
	if err != nil {
		r.logFailure(c, err, time.Since(start))
	}
	return res, err
}

// moduleLoader loads the active version of p from the store, for the
// sandbox to compile when it has no pool of it. A database that cannot be
// reached is marked (noteOutage): the sandbox then fails the call as
// unavailable, which is not the plugin's fault and opens no breaker, and
// Run answers it as the portal's outage (503), not the plugin's.
func (r *Runner) moduleLoader(p *model.Plugin) func(context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		wasm, err := r.store.PluginModule(ctx, p.TenantID, p.ActiveVersion)
		return wasm, noteOutage(ctx, err)
	}
}

// logFailure logs a failed run: a refused request is the person's, not
// worth a line; a failed call at info (the sandbox already warned); a view
// the portal refuses as a warning; anything else as an error.
func (r *Runner) logFailure(c Call, err error, took time.Duration) {
	p := c.Plugin
	var e *Error
	var ce *sandbox.CallError
	switch {
	case errors.As(err, &e) && e.Reason == ReasonInvalidInput:
	case errors.As(err, &ce):
		r.log.Info("plugin call failed", "tenant", c.Tenant.Slug, "plugin", p.Slug, "version", p.ActiveVersion,
			"reason", ce.Reason, "detail", ce.Detail, "request_id", c.RequestID, "duration_ms", took.Milliseconds())
	case e != nil && e.Reason == sandbox.ReasonMalformed:
		r.log.Warn("plugin returned an invalid view", "tenant", c.Tenant.Slug, "plugin", p.Slug, "version", p.ActiveVersion,
			"request_id", c.RequestID, "err", e.Err)
	default:
		r.log.Error("plugin call failed", "tenant", c.Tenant.Slug, "plugin", p.Slug, "request_id", c.RequestID, "err", err)
	}
}

// Job is one run without a store: the sandbox's description of the plugin,
// its module, the call's input (user, configuration, plugin), the action
// and form as the person submitted them, and the view policy of the
// portal that will show the result.
type Job struct {
	Plugin sandbox.Plugin
	Load   func(context.Context) ([]byte, error)
	// Input is completed by Exec: its kind, action and checked form.
	Input *abi.Input
	// Action is empty for a render.
	Action string
	Form   map[string][]string
	// Card asks for the home card: the call's kind is abi.KindCard and
	// its view is checked as a card (Policy.Card). It excludes Action.
	Card   bool
	Policy view.Policy
}

// Exec is the one run path of a wasm plugin, shared by the portal, the
// JSON API (through Run) and `portico plugin run`: it refuses an unsafe
// action name or form before the plugin runs (abi.CheckAction, the rule
// the SDK's test harness applies too), calls the sandbox, and checks
// the output with the portal's view policy, so a local run refuses exactly
// what the portal refuses. A failure is an *Error whose Reason Code names.
func Exec(ctx context.Context, e Engine, j Job) (*view.Result, error) {
	in := j.Input
	in.Kind, in.Action, in.Form = abi.KindRender, "", nil
	if j.Card {
		if j.Action != "" {
			return nil, &Error{Reason: ReasonInvalidInput, Detail: "a card call has no action"}
		}
		in.Kind, j.Policy.Card = abi.KindCard, true
	}
	if j.Action != "" {
		form, err := abi.CheckAction(j.Action, j.Form)
		if err != nil {
			return nil, &Error{Reason: ReasonInvalidInput, Detail: err.Error(), Err: err}
		}
		in.Kind, in.Action, in.Form = abi.KindAction, j.Action, form
	}
	// The view policy judges the output inside the call, so that a view
	// the portal refuses counts as the plugin's failure in its health.
	var res *view.Result
	var refused error
	judged := false
	p := j.Plugin
	p.Accept = func(out *abi.Output) error {
		judged = true
		res, refused = view.CleanOutput(out, j.Policy)
		if refused != nil && j.Policy.Card {
			// The home leaves a refused card out; the plugin's own page
			// may be fine, so the breaker does not hear of it.
			return sandbox.HealthOnly(refused)
		}
		return refused
	}
	out, err := e.Call(ctx, p, j.Load, in)
	if err == nil && !judged { // an Engine that does not call Accept (a test's)
		err = p.Accept(out)
	}
	if refused != nil {
		return nil, &Error{Reason: sandbox.ReasonMalformed, Detail: refused.Error(), Err: refused}
	}
	if err != nil {
		var ce *sandbox.CallError
		if errors.As(err, &ce) {
			return nil, &Error{Reason: ce.Reason, Detail: ce.Detail, Err: err}
		}
		return nil, &Error{Reason: ReasonUnavailable, Detail: err.Error(), Err: err}
	}
	return res, nil
}

// input builds the abi.Input of c.
func (r *Runner) input(ctx context.Context, c Call) (*abi.Input, error) {
	p, u := c.Plugin, c.User
	in := &abi.Input{Kind: abi.KindRender, RequestID: c.RequestID,
		Plugin: abi.PluginInfo{Slug: p.Slug, Title: p.TitleIn(c.Locale)}}
	sub, err := r.store.PluginSubject(ctx, c.Tenant.ID, p.ID, u.ID)
	if err != nil {
		return nil, &Error{Reason: ReasonUnavailable, Detail: "user id: " + err.Error(), Err: err}
	}
	in.User = abi.User{ID: sub, Role: string(c.Role), Locale: c.Locale, Tenant: c.Tenant.Slug}
	if p.HasUserField(model.UserFieldName) {
		in.User.Name = u.Name
	}
	if p.HasUserField(model.UserFieldEmail) {
		in.User.Email = u.Email
	}
	if p.HasUserField(model.UserFieldDocument) {
		in.User.Document = u.Document
	}
	if p.HasUserField(model.UserFieldPhone) {
		in.User.Phone = u.Phone
	}
	if p.HasGrant(model.GrantConfig) {
		cfg, err := r.store.PluginConfig(ctx, c.Tenant.ID, p.ID)
		if err != nil {
			return nil, &Error{Reason: ReasonUnavailable, Detail: "config: " + err.Error(), Err: err}
		}
		in.Config = make(map[string]string, len(cfg))
		for _, v := range cfg {
			in.Config[v.Key] = v.Value
		}
	}
	return in, nil
}

// SandboxPlugin returns the sandbox's description of p's active version:
// its limits, grants, allowed hosts and private-network setting.
func SandboxPlugin(p *model.Plugin) sandbox.Plugin {
	return sandbox.Plugin{
		TenantID: p.TenantID, PluginID: p.ID, Slug: p.Slug, Title: p.Title,
		VersionID: p.ActiveVersion,
		Limits: sandbox.Limits{
			Timeout:  time.Duration(p.TimeoutMS) * time.Millisecond,
			MemoryMB: p.MemoryMB,
		},
		Grants:              append([]string(nil), p.Grants...),
		AllowedHosts:        append([]string(nil), p.AllowedHosts...),
		AllowPrivateNetwork: p.AllowPrivateNetwork,
	}
}

// Describe runs a settings call (abi.KindSettings) of plugin p with input
// in: the one path of the admin's plugin page and `portico plugin run
// --settings`. The call runs without host functions (no network,
// key-value store, secrets or log), whatever p holds; the configuration
// reaches it with the config grant, as in any call. A plugin that answers an error (one
// built before settings existed answers "unknown kind") describes nothing:
// nil settings and the plugin's message. An answer that fails
// abi.CheckSettings is ReasonMalformed.
func Describe(ctx context.Context, e Engine, p sandbox.Plugin, load func(context.Context) ([]byte, error), in *abi.Input) (*abi.Settings, string, error) {
	in.Kind, in.Action, in.Form = abi.KindSettings, "", nil
	// The configuration is part of the input, not a host function: it
	// stays when p holds its grant. Every host function goes.
	var grants []string
	if slices.Contains(p.Grants, sandbox.GrantConfig) {
		grants = []string{sandbox.GrantConfig}
	}
	p.Grants = grants
	// The host's own call: the breaker and the health figures stay the
	// customers' (sandbox.Plugin.Unrecorded), and it ends within
	// abi.SettingsTimeoutMS whatever the plugin's timeout.
	p.Unrecorded = true
	if limit := abi.SettingsTimeoutMS * time.Millisecond; p.Limits.Timeout <= 0 || p.Limits.Timeout > limit {
		p.Limits.Timeout = limit
	}
	out, err := e.Call(ctx, p, load, in)
	if err != nil {
		var ce *sandbox.CallError
		if errors.As(err, &ce) {
			return nil, "", &Error{Reason: ce.Reason, Detail: ce.Detail, Err: err}
		}
		return nil, "", &Error{Reason: ReasonUnavailable, Detail: err.Error(), Err: err}
	}
	switch {
	case out.Settings == nil && out.Error != "":
		return nil, out.Error, nil
	case out.Settings == nil || out.View != nil || out.Error != "":
		return nil, "", &Error{Reason: sandbox.ReasonMalformed, Detail: "a settings call must answer settings or an error, alone"}
	}
	if err := abi.CheckSettings(out.Settings); err != nil {
		return nil, "", &Error{Reason: sandbox.ReasonMalformed, Detail: err.Error(), Err: err}
	}
	return out.Settings, "", nil
}

// Settings asks the active version of p to describe its settings in
// locale for a gestor, checking config. The call concerns no one's data:
// its user has the gestor role, the language and the tenant, and no id or
// profile field. The configuration reaches the plugin only with the config
// grant, as in any other call. A plugin without an active version, or one
// that describes nothing, gives nil settings and no error.
func (r *Runner) Settings(ctx context.Context, t *model.Tenant, locale string, p *model.Plugin, config map[string]string) (*abi.Settings, error) {
	if p.Type != model.PluginWasm || p.ActiveVersion == "" {
		return nil, nil
	}
	in := &abi.Input{Plugin: abi.PluginInfo{Slug: p.Slug, Title: p.TitleIn(locale)},
		User: abi.User{Role: string(model.RoleGestor), Locale: locale, Tenant: t.Slug}}
	if p.HasGrant(model.GrantConfig) {
		in.Config = config
	}
	s, msg, err := Describe(ctx, r.engine, SandboxPlugin(p), r.moduleLoader(p), in)
	switch {
	case err != nil:
		r.log.Warn("plugin settings call failed", "tenant", t.Slug, "plugin", p.Slug, "version", p.ActiveVersion, "err", err)
	case s == nil:
		r.log.Info("plugin describes no settings", "tenant", t.Slug, "plugin", p.Slug, "version", p.ActiveVersion, "answer", msg)
	}
	return s, err
}
