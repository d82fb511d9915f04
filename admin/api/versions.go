package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/sdk/abi"
)

// Wasm module versions in the admin API:
//
//	POST /plugins/{slug}/versions               upload (application/wasm, or multipart/form-data
//	                                            with a "module" file); ?activate=true activates it
//	GET  /plugins/{slug}/versions               list, newest first
//	POST /plugins/{slug}/versions/{id}/activate make a version the active one
//	POST /plugins/{slug}/rollback               back to the previous version (one step)
//	GET  /plugins/{slug}/health                 the runtimes' counters on every node (admin.PluginHealth)
//
// An upload is compiled and checked by the runtime before anything is
// stored; a refused module answers 413, 415 or 422 with a code that says
// why (admin.Classify).

const versionNotFound = "version_not_found"

// versionView is one uploaded module in the API.
type versionView struct {
	ID         string    `json:"id"`
	Number     int       `json:"number"`
	SHA256     string    `json:"sha256"`
	Size       int64     `json:"size"`
	ABIVersion int       `json:"abi_version"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
	Active     bool      `json:"active"`
	Previous   bool      `json:"previous"`
}

func viewVersion(v *model.PluginVersion, p *model.Plugin) versionView {
	return versionView{ID: v.ID, Number: v.Number, SHA256: v.SHA256, Size: v.SizeBytes, ABIVersion: v.ABIVersion,
		CreatedAt: v.CreatedAt.UTC(), CreatedBy: v.CreatedBy,
		Active: p != nil && v.ID == p.ActiveVersion, Previous: p != nil && v.ID == p.PreviousVersion}
}

// versionList is the answer of the listing and of every change.
type versionList struct {
	Plugin          string        `json:"plugin"`
	ActiveVersion   string        `json:"active_version"`
	PreviousVersion string        `json:"previous_version"`
	PluginVersion   int64         `json:"plugin_version"`
	ABIVersion      int           `json:"host_abi_version"`
	Versions        []versionView `json:"versions"`
}

func (a *API) versionList(c *fiber.Ctx, slug string) (*versionList, error) {
	p, vers, err := a.svc.Versions(c.UserContext(), web.Tenant(c).ID, slug)
	if err != nil {
		return nil, err
	}
	out := &versionList{Plugin: p.Slug, ActiveVersion: p.ActiveVersion, PreviousVersion: p.PreviousVersion,
		PluginVersion: p.Version, ABIVersion: abi.Version, Versions: make([]versionView, len(vers))}
	for i := range vers {
		out.Versions[i] = viewVersion(&vers[i], p)
	}
	return out, nil
}

// GET /plugins/:slug/versions
func (a *API) listVersions(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	l, err := a.versionList(c, slug)
	if err != nil {
		return fail(c, err, pluginNotFound)
	}
	return c.JSON(l)
}

// POST /plugins/:slug/versions: 201 with the new version and the listing.
func (a *API) uploadVersion(c *fiber.Ctx) error {
	// The plugin first: another tenant's slug is a 404 whatever the body.
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	slug := p.Slug
	module, activate, err := admin.ReadModule(c)
	if err != nil {
		return fail(c, err, pluginNotFound)
	}
	v, _, err := a.svc.UploadVersion(c.UserContext(), web.Tenant(c).ID, slug, module, activate, actorOf(c))
	if err != nil {
		return fail(c, err, pluginNotFound)
	}
	l, err := a.versionList(c, slug)
	if err != nil {
		return fail(c, err, pluginNotFound)
	}
	for _, vv := range l.Versions {
		if vv.ID == v.ID {
			return c.Status(fiber.StatusCreated).JSON(fiber.Map{"version": vv, "versions": l})
		}
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"version": viewVersion(v, nil), "versions": l})
}

// POST /plugins/:slug/versions/:id/activate
func (a *API) activateVersion(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	id, err := idParam(c, versionNotFound)
	if err != nil {
		return err
	}
	if _, err := a.svc.ActivateVersion(c.UserContext(), web.Tenant(c).ID, slug, id, actorOf(c)); err != nil {
		return fail(c, err, versionNotFound)
	}
	l, err := a.versionList(c, slug)
	if err != nil {
		return fail(c, err, pluginNotFound)
	}
	return c.JSON(l)
}

// POST /plugins/:slug/rollback
func (a *API) rollback(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	if _, err := a.svc.Rollback(c.UserContext(), web.Tenant(c).ID, slug, actorOf(c)); err != nil {
		return fail(c, err, pluginNotFound)
	}
	l, err := a.versionList(c, slug)
	if err != nil {
		return fail(c, err, pluginNotFound)
	}
	return c.JSON(l)
}

// healthView is a plugin's health across the installation (scope
// "installation"): this node's counters live from its runtime, every other
// node's as it last published them (every few seconds). Calls and errors
// are summed; p50 and p95 are the slowest node's (percentiles
// "max_over_nodes"); paused is true while the breaker is open on any node
// (nodes says which); last errors and logs are every node's, newest first,
// each naming its node. The fields before nodes are those of the
// per-process answer this replaced, with the same names and types.
type healthView struct {
	Scope       string          `json:"scope"`
	Available   bool            `json:"available"`
	Calls       int64           `json:"calls"`
	Errors      int64           `json:"errors"`
	ErrorRate   float64         `json:"error_rate"`
	P50MS       float64         `json:"p50_ms"`
	P95MS       float64         `json:"p95_ms"`
	Paused      bool            `json:"paused"`
	PausedUntil *time.Time      `json:"paused_until"`
	LastErrors  []healthError   `json:"last_errors"`
	Logs        []healthLogLine `json:"logs"`
	Percentiles string          `json:"percentiles"`
	Nodes       []healthNode    `json:"nodes"`
	// Partial is true when the other nodes' health could not be read:
	// the numbers are this node's alone.
	Partial bool `json:"partial"`
}

type healthError struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	Detail string    `json:"detail"`
	Node   string    `json:"node"`
}

type healthLogLine struct {
	At      time.Time         `json:"at"`
	Level   string            `json:"level"`
	Message string            `json:"message"`
	Attrs   map[string]string `json:"attrs,omitempty"`
	Node    string            `json:"node"`
}

// healthNode is one node's share: its own counters and breaker.
type healthNode struct {
	ID          string     `json:"id"`
	Host        string     `json:"host"`
	Name        string     `json:"name"`
	ThisNode    bool       `json:"this_node"`
	Calls       int64      `json:"calls"`
	Errors      int64      `json:"errors"`
	ErrorRate   float64    `json:"error_rate"`
	P50MS       float64    `json:"p50_ms"`
	P95MS       float64    `json:"p95_ms"`
	Paused      bool       `json:"paused"`
	PausedUntil *time.Time `json:"paused_until"`
	// UpdatedAt is when the node last published; null for this node.
	UpdatedAt *time.Time `json:"updated_at"`
}

func viewHealth(h admin.Health) healthView {
	out := healthView{Scope: "installation", Available: h.Available, Calls: h.Calls, Errors: h.Errors,
		ErrorRate: rate(h.Errors, h.Calls), P50MS: ms(h.P50), P95MS: ms(h.P95), Paused: h.Paused, PausedUntil: utcOrNil(h.PausedUntil),
		LastErrors: []healthError{}, Logs: []healthLogLine{}, Percentiles: "max_over_nodes", Nodes: []healthNode{}, Partial: h.Partial}
	for _, e := range h.LastErrors {
		out.LastErrors = append(out.LastErrors, healthError{At: e.At.UTC(), Reason: e.Reason, Detail: e.Detail, Node: e.Node})
	}
	for _, l := range h.Logs {
		out.Logs = append(out.Logs, healthLogLine{At: l.At.UTC(), Level: l.Level, Message: l.Message, Attrs: l.Attrs, Node: l.Node})
	}
	for _, n := range h.Nodes {
		out.Nodes = append(out.Nodes, healthNode{ID: n.ID, Host: n.Host, Name: n.Name, ThisNode: n.This, Calls: n.Calls, Errors: n.Errors,
			ErrorRate: rate(n.Errors, n.Calls), P50MS: ms(n.P50), P95MS: ms(n.P95), Paused: n.Paused, PausedUntil: utcOrNil(n.PausedUntil),
			UpdatedAt: utcOrNil(n.UpdatedAt)})
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// rate is errors/calls, 0 without calls.
func rate(errors, calls int64) float64 {
	if calls <= 0 {
		return 0
	}
	return float64(errors) / float64(calls)
}

// utcOrNil is t in UTC, or nil (JSON null) for the zero time.
func utcOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// wasmPluginOf is pluginOf for the routes of wasm plugins only: another
// plugin is 422 plugin_not_wasm.
func (a *API) wasmPluginOf(c *fiber.Ctx) (*model.Plugin, error) {
	p, err := a.pluginOf(c)
	if err != nil {
		return nil, err
	}
	if p.Type != model.PluginWasm {
		return nil, fail(c, storage.ErrNotWasm, pluginNotFound)
	}
	return p, nil
}

// GET /plugins/:slug/settings: what the active version declares, in the
// caller's language (Accept-Language, else the portal's default), with the
// required fields not set and the plugin's problems with the stored
// configuration.
func (a *API) settings(c *fiber.Ctx) error {
	p, err := a.wasmPluginOf(c)
	if err != nil {
		return err
	}
	s, err := admin.PluginSettings(c.UserContext(), a.run, a.store, web.Tenant(c), web.L(c).Locale(), p, nil, nil)
	if err != nil {
		return err
	}
	return c.JSON(s)
}

// GET /plugins/:slug/health
func (a *API) health(c *fiber.Ctx) error {
	p, err := a.wasmPluginOf(c)
	if err != nil {
		return err
	}
	h, err := admin.PluginHealth(c.UserContext(), a.store, a.engine, web.Tenant(c).ID, p.ID)
	if err != nil {
		a.env.Log.Warn("plugin health: other nodes unreadable", "tenant", web.Tenant(c).Slug, "plugin", p.Slug, "err", err)
	}
	return c.JSON(viewHealth(h))
}
