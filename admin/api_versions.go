package admin

import (
	"errors"
	"io"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/sandbox"
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
//	GET  /plugins/{slug}/health                 the runtime's counters in this process
//
// An upload is compiled and checked by the runtime before anything is
// stored; a refused module answers 413, 415 or 422 with a code that says
// why (see versionProblem).

const versionNotFound = "version_not_found"

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
	if string(method) != fiber.MethodPost {
		return 0, 0
	}
	path := string(requestURI)
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if len(path) > 256 {
		return 0, 0
	}
	path = strings.TrimSuffix(strings.ToLower(path), "/")
	for _, prefix := range []string{"/api/v1/admin/plugins/", "/admin/plugins/"} {
		rest, ok := strings.CutPrefix(path, prefix)
		if !ok {
			continue
		}
		slug, ok := strings.CutSuffix(rest, "/versions")
		if ok && slug != "" && !strings.Contains(slug, "/") {
			return UploadBodyLimit, UploadReadTimeout
		}
	}
	return 0, 0
}

// registerVersionsAPI mounts the wasm module version routes.
func (a *Admin) registerVersionsAPI(r fiber.Router) {
	r.Get("/plugins/:slug/versions", a.apiListVersions)
	r.Post("/plugins/:slug/versions", a.apiUploadVersion)
	r.Post("/plugins/:slug/versions/:id/activate", a.apiActivateVersion)
	r.Post("/plugins/:slug/rollback", a.apiRollback)
	r.Get("/plugins/:slug/health", a.apiHealth)
}

// versions returns the version service over this process's runtime.
func (a *Admin) versions() *Versions {
	return &Versions{Store: a.svc.Store, Engine: a.env.Sandbox, Log: a.env.Log}
}

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

func (a *Admin) versionList(c *fiber.Ctx, slug string) (*versionList, error) {
	p, vers, err := a.versions().List(c.UserContext(), web.Tenant(c).ID, slug)
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
func (a *Admin) apiListVersions(c *fiber.Ctx) error {
	slug, err := slugParam(c)
	if err != nil {
		return err
	}
	l, err := a.versionList(c, slug)
	if err != nil {
		return writeVersionProblem(c, err, pluginNotFound)
	}
	return c.JSON(l)
}

// POST /plugins/:slug/versions: 201 with the new version and the listing.
func (a *Admin) apiUploadVersion(c *fiber.Ctx) error {
	// The plugin first: another tenant's slug is a 404 whatever the body.
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	slug := p.Slug
	module, activate, err := readModule(c)
	if err != nil {
		return writeVersionProblem(c, err, pluginNotFound)
	}
	v, _, err := a.versions().Upload(c.UserContext(), web.Tenant(c).ID, slug, module, activate, ActorOf(c))
	if err != nil {
		return writeVersionProblem(c, err, pluginNotFound)
	}
	l, err := a.versionList(c, slug)
	if err != nil {
		return writeVersionProblem(c, err, pluginNotFound)
	}
	for _, vv := range l.Versions {
		if vv.ID == v.ID {
			return c.Status(fiber.StatusCreated).JSON(fiber.Map{"version": vv, "versions": l})
		}
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"version": viewVersion(v, nil), "versions": l})
}

// POST /plugins/:slug/versions/:id/activate
func (a *Admin) apiActivateVersion(c *fiber.Ctx) error {
	slug, err := slugParam(c)
	if err != nil {
		return err
	}
	id, err := idParam(c, versionNotFound)
	if err != nil {
		return err
	}
	if _, err := a.versions().Activate(c.UserContext(), web.Tenant(c).ID, slug, id, ActorOf(c)); err != nil {
		return writeVersionProblem(c, err, versionNotFound)
	}
	l, err := a.versionList(c, slug)
	if err != nil {
		return writeVersionProblem(c, err, pluginNotFound)
	}
	return c.JSON(l)
}

// POST /plugins/:slug/rollback
func (a *Admin) apiRollback(c *fiber.Ctx) error {
	slug, err := slugParam(c)
	if err != nil {
		return err
	}
	if _, err := a.versions().Rollback(c.UserContext(), web.Tenant(c).ID, slug, ActorOf(c)); err != nil {
		return writeVersionProblem(c, err, pluginNotFound)
	}
	l, err := a.versionList(c, slug)
	if err != nil {
		return writeVersionProblem(c, err, pluginNotFound)
	}
	return c.JSON(l)
}

// healthView is the runtime's view of one plugin. The counters live in
// the process that ran the calls (scope "process"): behind several
// processes each one reports its own.
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
}

type healthError struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	Detail string    `json:"detail"`
}

type healthLogLine struct {
	At      time.Time         `json:"at"`
	Level   string            `json:"level"`
	Message string            `json:"message"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

func viewHealth(h sandbox.Health, ok bool) healthView {
	out := healthView{Scope: "process", Available: ok, Calls: h.Calls, Errors: h.Errors,
		P50MS: ms(h.P50), P95MS: ms(h.P95), Paused: h.Paused,
		LastErrors: []healthError{}, Logs: []healthLogLine{}}
	if h.Calls > 0 {
		out.ErrorRate = float64(h.Errors) / float64(h.Calls)
	}
	if h.Paused && !h.PausedUntil.IsZero() {
		t := h.PausedUntil.UTC()
		out.PausedUntil = &t
	}
	for _, e := range h.LastErrors {
		out.LastErrors = append(out.LastErrors, healthError{At: e.At.UTC(), Reason: e.Reason, Detail: e.Detail})
	}
	for _, l := range h.Logs {
		out.Logs = append(out.Logs, healthLogLine{At: l.At.UTC(), Level: l.Level, Message: l.Message, Attrs: l.Attrs})
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// GET /plugins/:slug/health
func (a *Admin) apiHealth(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	if p.Type != model.PluginWasm {
		return writeVersionProblem(c, storage.ErrNotWasm, pluginNotFound)
	}
	h, ok := a.versions().Health(web.Tenant(c).ID, p.ID)
	return c.JSON(viewHealth(h, ok))
}

// Module upload parsing.

// errUnsupportedModuleType is a body that is neither application/wasm nor
// multipart/form-data.
var errUnsupportedModuleType = errors.New("unsupported module content type")

// errBadActivate is an activate parameter that is not a boolean.
var errBadActivate = errors.New("activate is not a boolean")

// errManyModules is a multipart upload with more than one module file.
var errManyModules = errors.New("more than one module file")

// readModule returns the uploaded module bytes and the activate flag from
// a raw application/wasm body or a multipart/form-data "module" file
// (activate from the query or a form field).
func readModule(c *fiber.Ctx) ([]byte, bool, error) {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil {
		return nil, false, errUnsupportedModuleType
	}
	activate, err := parseActivate(c.Query("activate"))
	if err != nil {
		return nil, false, err
	}
	switch mt {
	case "application/wasm":
		if len(c.Body()) > sandbox.MaxModuleBytes {
			return nil, false, ErrModuleTooLarge
		}
		return c.Body(), activate, nil
	case fiber.MIMEMultipartForm:
		form, err := c.MultipartForm()
		if err != nil {
			return nil, false, fiber.ErrBadRequest
		}
		if vals := form.Value["activate"]; len(vals) > 0 && c.Query("activate") == "" {
			if activate, err = parseActivate(vals[len(vals)-1]); err != nil {
				return nil, false, err
			}
		}
		files := form.File["module"]
		switch {
		case len(files) == 0:
			return nil, activate, ErrModuleEmpty
		case len(files) > 1:
			return nil, activate, errManyModules
		case files[0].Size > sandbox.MaxModuleBytes:
			return nil, activate, ErrModuleTooLarge
		}
		f, err := files[0].Open()
		if err != nil {
			return nil, activate, fiber.ErrBadRequest
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, sandbox.MaxModuleBytes+1))
		if err != nil {
			return nil, activate, fiber.ErrBadRequest
		}
		if len(b) > sandbox.MaxModuleBytes {
			return nil, activate, ErrModuleTooLarge
		}
		return b, activate, nil
	}
	return nil, false, errUnsupportedModuleType
}

// parseActivate reads the activate flag: absent, "false", "0" or "off"
// mean no; "true", "1" or "on" mean yes.
func parseActivate(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "0", "off":
		return false, nil
	case "true", "1", "on":
		return true, nil
	}
	return false, errBadActivate
}

// versionFailure is how a refused version operation is answered: the HTTP
// status, the code (its message is "error."+code, filled with Args), the
// form field it concerns, and the runtime's technical detail (English).
type versionFailure struct {
	Status int
	Code   string
	Field  string
	Args   []any
	Detail string
}

// maxModuleText is sandbox.MaxModuleBytes for people, e.g. "16 MiB".
var maxModuleText = strconv.Itoa(sandbox.MaxModuleBytes>>20) + " MiB"

// classifyVersionErr maps an error of the version operations onto its
// answer; ok is false for errors that are not the client's (internal
// failures), which keep their usual handling. notFound is the code for
// model.ErrNotFound on this route.
func classifyVersionErr(err error, notFound string) (*versionFailure, bool) {
	var me *sandbox.ModuleError
	var dup *DuplicateError
	switch {
	case errors.As(err, &me):
		f := &versionFailure{Status: fiber.StatusUnprocessableEntity, Field: "module", Detail: me.Detail}
		switch me.Code {
		case "too_large":
			f.Status, f.Code, f.Args = fiber.StatusRequestEntityTooLarge, "module_too_large", []any{"Max", maxModuleText}
		case "abi_version":
			f.Code, f.Args = "module_abi_version", []any{"Want", me.Want, "Got", me.Got}
		case "not_wasm", "compile", "missing_export", "bad_import", "init",
			"start_section", "too_complex", "compile_timeout", "init_timeout":
			f.Code = "module_" + me.Code
		default:
			f.Code = "module_invalid"
		}
		return f, true
	case errors.As(err, &dup):
		return &versionFailure{Status: fiber.StatusConflict, Code: "module_duplicate", Field: "module", Args: []any{"Number", dup.Number}}, true
	case errors.Is(err, ErrPluginMissing):
		return &versionFailure{Status: fiber.StatusNotFound, Code: pluginNotFound}, true
	case errors.Is(err, ErrModuleEmpty):
		return &versionFailure{Status: fiber.StatusUnprocessableEntity, Code: "module_empty", Field: "module"}, true
	case errors.Is(err, ErrModuleTooLarge):
		return &versionFailure{Status: fiber.StatusRequestEntityTooLarge, Code: "module_too_large", Field: "module", Args: []any{"Max", maxModuleText}}, true
	case errors.Is(err, errManyModules):
		return &versionFailure{Status: fiber.StatusUnprocessableEntity, Code: "module_many", Field: "module"}, true
	case errors.Is(err, errUnsupportedModuleType):
		return &versionFailure{Status: fiber.StatusUnsupportedMediaType, Code: "unsupported_module_type"}, true
	case errors.Is(err, errBadActivate):
		return &versionFailure{Status: fiber.StatusBadRequest, Code: "invalid_parameter", Field: "activate"}, true
	case errors.Is(err, ErrNoRuntime):
		return &versionFailure{Status: fiber.StatusServiceUnavailable, Code: "wasm_unavailable"}, true
	case errors.Is(err, ErrCheckBusy):
		return &versionFailure{Status: fiber.StatusServiceUnavailable, Code: "module_check_busy"}, true
	case errors.Is(err, storage.ErrNotWasm):
		return &versionFailure{Status: fiber.StatusUnprocessableEntity, Code: "plugin_not_wasm"}, true
	case errors.Is(err, storage.ErrNoPreviousVersion):
		return &versionFailure{Status: fiber.StatusConflict, Code: "no_previous_version"}, true
	case errors.Is(err, storage.ErrStale):
		return &versionFailure{Status: fiber.StatusConflict, Code: "stale_version"}, true
	case errors.Is(err, model.ErrNotFound):
		return &versionFailure{Status: fiber.StatusNotFound, Code: notFound}, true
	}
	return nil, false
}

// message is the failure's text in the request's language.
func (f *versionFailure) message(c *fiber.Ctx) string {
	return web.L(c).T("error."+f.Code, f.Args...)
}

// versionAPIError is the API's error body with the runtime's detail added
// for a refused module (English, technical: which export is missing, what
// the compiler said).
type versionAPIError struct {
	web.APIError
	Detail string `json:"detail,omitempty"`
}

// writeVersionProblem answers a failed version operation in the API's
// error shape, {"error":{"code","message","fields"[,"detail"]}}.
func writeVersionProblem(c *fiber.Ctx, err error, notFound string) error {
	f, ok := classifyVersionErr(err, notFound)
	if !ok {
		return problem(err, notFound)
	}
	msg := f.message(c)
	body := versionAPIError{APIError: web.APIError{Code: f.Code, Message: msg}, Detail: f.Detail}
	if f.Field != "" {
		fieldMsg := msg
		if f.Code == "invalid_parameter" {
			fieldMsg = web.L(c).T("validation.wrong_type")
		}
		body.Fields = map[string]string{f.Field: fieldMsg}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(f.Status).JSON(fiber.Map{"error": body})
}
