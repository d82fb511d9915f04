package api

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/userimport"
)

// Limits of the module upload gate (UploadGate); docs/design.md lists them.
const (
	// MaxConcurrentUploads is how many module uploads one process receives
	// at once with the large body limit: at most this many times
	// UploadBodyLimit of request bodies are buffered for uploads.
	MaxConcurrentUploads = 4
	// MaxUploadsPerTenant is how many of them one tenant's uploads may
	// hold, so that one company's gestor (or a stolen key of theirs)
	// sending slow bodies cannot turn every other company's uploads away.
	MaxUploadsPerTenant = 2
	// UploadRetryAfter is the Retry-After, in seconds, of a 429
	// uploads_busy.
	UploadRetryAfter = 10
	// uploadLeaseTTL is how long a granted upload keeps its slot when its
	// request never finishes through the app (its body read failed and no
	// later request reused the connection's context): by then the read
	// deadline has long passed.
	uploadLeaseTTL = UploadReadTimeout + 30*time.Second
	// uploadCheckTimeout bounds the credential check made while reading
	// the headers.
	uploadCheckTimeout = 3 * time.Second
)

// TooLarge is the answer to a request whose body passed its limit, which
// fasthttp refuses before any handler runs, when the route has a more
// precise answer than the generic body_too_large: a module upload
// (BodyLimitFor) over UploadBodyLimit gets module_too_large with the
// limit, and a user import (API or page) over the server's limit gets
// csv_too_large with the file's limit, as the files that fit the body but
// not their own limit get. It is nil for every other request.
func TooLarge(method, requestURI []byte) *web.Problem {
	if limit, _ := BodyLimitFor(method, requestURI); limit != 0 {
		return admin.Classify(service.ErrModuleTooLarge, "").Problem()
	}
	if path, ok := postPath(method, requestURI); ok && (path == "/api/v1/admin/users/import" || path == "/admin/users/import") {
		var p *web.Problem
		if errors.As(admin.ImportProblem(&userimport.FileError{Code: userimport.FileTooLarge}), &p) {
			return p
		}
	}
	return nil
}

// postPath returns the path of a POST request's URI as the router matches
// it (lower case, without query or trailing slash); ok is false for other
// methods and for paths too long to be a route.
func postPath(method, requestURI []byte) (string, bool) {
	if string(method) != fiber.MethodPost {
		return "", false
	}
	path := string(requestURI)
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if len(path) > 256 {
		return "", false
	}
	return strings.TrimSuffix(strings.ToLower(path), "/"), true
}

// UploadBodyLimit is the largest request body the upload routes accept: a
// module of sandbox.MaxModuleBytes plus room for the multipart envelope.
// Every other route keeps the server's 1 MiB limit (see BodyLimitFor).
const UploadBodyLimit = sandbox.MaxModuleBytes + 64<<10

// UploadReadTimeout is how long the upload routes may take to receive
// their body (16 MiB at ~300 KiB/s); other routes keep the server's.
const UploadReadTimeout = 60 * time.Second

// BodyLimitFor returns the body limit and read timeout of a request from
// its method and request URI, before its body is read: UploadBodyLimit and
// UploadReadTimeout for the module upload routes (API and UI), zero (the
// server's defaults) for everything else. It matches like the router does
// (case-insensitive, an optional trailing slash), so a request it does not
// recognise at worst gets the smaller limit.
func BodyLimitFor(method, requestURI []byte) (int, time.Duration) {
	if _, ok := uploadSlug(method, requestURI); !ok {
		return 0, 0
	}
	return UploadBodyLimit, UploadReadTimeout
}

// uploadSlug returns the plugin slug of a module upload route (API or
// UI) as the router matches it; ok is false for any other request.
func uploadSlug(method, requestURI []byte) (string, bool) {
	path, ok := postPath(method, requestURI)
	if !ok {
		return "", false
	}
	for _, prefix := range []string{"/api/v1/admin/plugins/", "/admin/plugins/"} {
		rest, ok := strings.CutPrefix(path, prefix)
		if !ok {
			continue
		}
		slug, ok := strings.CutSuffix(rest, "/versions")
		if ok && slug != "" && !strings.Contains(slug, "/") {
			return slug, true
		}
	}
	return "", false
}

// UploadGate decides, from a request's headers and before its body is
// read, whether a module upload may send a body above the server's limit
// and take longer to send it. It grants UploadBodyLimit and
// UploadReadTimeout only when:
//
//   - the request is a module upload (BodyLimitFor) announcing a body over
//     the server's limit, or a chunked one;
//   - its single, well-formed Host names a tenant (web.RequestHost);
//   - it carries a credential of that tenant that the admin accepts for
//     changes: an API key with the admin scope (service.AdminKey, as the API checks it) or the session
//     cookie of an active gestor (web.Env.LiveSession);
//   - the plugin it names is a wasm plugin of that tenant;
//   - fewer than MaxConcurrentUploads uploads hold the large limit, and
//     fewer than MaxUploadsPerTenant of them are that tenant's.
//
// Everything else keeps the server's limit, so an anonymous client can
// never make the process buffer more than that per connection. A refused
// upload whose body is over the server's limit is answered by Refusal's
// problem (401, 403, 404, 400, or 429 uploads_busy with Retry-After)
// instead of a bare 413, as soon as the headers are in.
//
// Slots are keyed by the request header's address: fasthttp reuses one
// request per connection at a time, so a slot is released when the request
// ends (Done), when the next request reuses the header (HeaderReceived),
// or at the latest after uploadLeaseTTL.
type UploadGate struct {
	a            *API
	defaultLimit int

	mu        sync.Mutex
	entries   map[*fasthttp.RequestHeader]gateEntry
	granted   int
	perTenant map[string]int // granted slots by tenant ID
}

type gateEntry struct {
	granted bool
	tenant  string // of a granted slot
	refusal *web.Problem
	until   time.Time
}

// NewUploadGate returns the gate of a server whose body limit for every
// other request is defaultLimit.
func (a *API) NewUploadGate(defaultLimit int) *UploadGate {
	return &UploadGate{a: a, defaultLimit: defaultLimit, entries: map[*fasthttp.RequestHeader]gateEntry{}, perTenant: map[string]int{}}
}

// HeaderReceived is the server's fasthttp.Server.HeaderReceived hook.
func (g *UploadGate) HeaderReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	g.Done(h) // whatever the previous request on this connection held
	limit, timeout := BodyLimitFor(h.Method(), h.RequestURI())
	if limit == 0 {
		return fasthttp.RequestConfig{}
	}
	if n := h.ContentLength(); n >= 0 && n <= g.defaultLimit || n == -2 {
		return fasthttp.RequestConfig{} // fits the usual limit: no slot needed
	}
	t, p := g.admit(h)
	if p != nil {
		g.remember(h, gateEntry{refusal: p, until: time.Now().Add(uploadLeaseTTL)})
		return fasthttp.RequestConfig{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if g.granted >= MaxConcurrentUploads || g.perTenant[t.ID] >= MaxUploadsPerTenant {
		g.expireLocked(now)
	}
	if g.granted >= MaxConcurrentUploads || g.perTenant[t.ID] >= MaxUploadsPerTenant {
		busy := web.Fail(fiber.StatusTooManyRequests, "uploads_busy")
		busy.RetryAfter = UploadRetryAfter
		g.entries[h] = gateEntry{refusal: busy, until: now.Add(uploadLeaseTTL)}
		g.a.env.Log.Warn("module upload refused: uploads busy", "tenant", t.Slug, "tenant_uploads", g.perTenant[t.ID],
			"uploads", g.granted, "max_per_tenant", MaxUploadsPerTenant, "max_concurrent", MaxConcurrentUploads)
		return fasthttp.RequestConfig{}
	}
	g.granted++
	g.perTenant[t.ID]++
	g.entries[h] = gateEntry{granted: true, tenant: t.ID, until: now.Add(uploadLeaseTTL)}
	return fasthttp.RequestConfig{MaxRequestBodySize: limit, ReadTimeout: timeout}
}

// admit checks the upload's tenant, credential and plugin; a nil problem
// means admitted, for tenant t.
func (g *UploadGate) admit(h *fasthttp.RequestHeader) (*model.Tenant, *web.Problem) {
	host, ok := web.RequestHost(h)
	if !ok {
		return nil, web.ErrBadHost
	}
	if host == "" {
		return nil, web.ErrUnknownHost
	}
	ctx, cancel := context.WithTimeout(context.Background(), uploadCheckTimeout)
	defer cancel()
	env := g.a.env
	t, err := env.Registry.TenantByHost(ctx, host)
	if err != nil {
		if errors.Is(err, model.ErrNotFound) {
			return nil, web.ErrUnknownHost
		}
		env.Log.Warn("module upload gate: resolve tenant", "err", err)
		return nil, web.Fail(fiber.StatusInternalServerError, "internal")
	}
	if p := g.credential(ctx, h, t); p != nil {
		return nil, p
	}
	// The plugin is checked before a slot is given, so that uploads to a
	// slug that does not exist (or to an iframe plugin) cannot hold one.
	slug, _ := uploadSlug(h.Method(), h.RequestURI())
	pl, err := g.a.store.PluginBySlug(ctx, t.ID, slug)
	switch {
	case errors.Is(err, model.ErrNotFound):
		return nil, web.Fail(fiber.StatusNotFound, "plugin_not_found")
	case err != nil:
		env.Log.Warn("module upload gate: plugin", "tenant", t.Slug, "err", err)
		return nil, web.Fail(fiber.StatusInternalServerError, "internal")
	case pl.Type != model.PluginWasm:
		return nil, admin.Classify(storage.ErrNotWasm, "").Problem()
	}
	return t, nil
}

// credential checks that h carries a credential of tenant t that the
// admin accepts for changes; nil means it does.
func (g *UploadGate) credential(ctx context.Context, h *fasthttp.RequestHeader, t *model.Tenant) *web.Problem {
	env := g.a.env
	if auth := h.Peek(fiber.HeaderAuthorization); len(auth) > 0 {
		if _, err := g.a.svc.AdminKey(ctx, t.ID, string(auth)); err != nil {
			if f := admin.Classify(err, ""); f != nil {
				return f.Problem()
			}
			env.Log.Warn("module upload gate: api key", "tenant", t.Slug, "err", err)
			return web.Fail(fiber.StatusInternalServerError, "internal")
		}
		return nil
	}
	// The scheme is not known from the headers alone, so either name is
	// accepted here (web.CookieName): the gate only decides the body's
	// limit, and the route checks the credential under the request's own.
	token := h.Cookie(web.HostCookiePrefix + web.SessionCookie)
	if len(token) == 0 {
		token = h.Cookie(web.SessionCookie)
	}
	sess, u, err := env.LiveSession(ctx, t.ID, string(token))
	switch {
	case errors.Is(err, model.ErrNotFound):
		return web.Fail(fiber.StatusUnauthorized, "unauthenticated")
	case err != nil:
		env.Log.Warn("module upload gate: session", "tenant", t.Slug, "err", err)
		return web.Fail(fiber.StatusInternalServerError, "internal")
	}
	if code := web.StaffRefusal(web.LoginUser(sess, u)); code != "" {
		return web.Fail(fiber.StatusForbidden, code)
	}
	return nil
}

// maxGateEntries is how many remembered requests trigger a sweep of the
// expired ones.
const maxGateEntries = 4096

func (g *UploadGate) remember(h *fasthttp.RequestHeader, e gateEntry) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.entries) >= maxGateEntries {
		g.expireLocked(time.Now())
	}
	g.entries[h] = e
}

// expireLocked drops entries past their lease.
func (g *UploadGate) expireLocked(now time.Time) {
	for h, e := range g.entries {
		if now.After(e.until) {
			g.releaseLocked(e)
			delete(g.entries, h)
		}
	}
}

// releaseLocked gives back the slot e holds, if any.
func (g *UploadGate) releaseLocked(e gateEntry) {
	if !e.granted {
		return
	}
	g.granted--
	if g.perTenant[e.tenant]--; g.perTenant[e.tenant] <= 0 {
		delete(g.perTenant, e.tenant)
	}
}

// Done releases what the request with header h holds, if anything.
func (g *UploadGate) Done(h *fasthttp.RequestHeader) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if e, ok := g.entries[h]; ok {
		g.releaseLocked(e)
		delete(g.entries, h)
	}
}

// Release is a middleware that frees the request's upload slot once the
// request has been handled.
func (g *UploadGate) Release() fiber.Handler {
	return func(c *fiber.Ctx) error {
		defer g.Done(&c.Request().Header)
		return c.Next()
	}
}

// Refusal returns the answer for a request the gate refused the large
// limit to, or nil. The server's error handler gives it instead of a bare
// 413 when the body was over the server's limit.
func (g *UploadGate) Refusal(h *fasthttp.RequestHeader) *web.Problem {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.entries[h].refusal
}

// InUse returns how many uploads hold the large limit now.
func (g *UploadGate) InUse() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.granted
}
