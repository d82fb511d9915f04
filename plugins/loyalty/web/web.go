// Package web is the loyalty app's pages, framed by Portico as an iframe
// plugin: a customer's "Pontos" page (balance, history, points about to
// expire, the QR code of the loyalty card) and, for gestores who open the
// plugin from the manager panel, the staff pages (find a customer by name,
// e-mail, phone, CPF, card code or the card's QR; give points directly or
// from a purchase amount; redeem or deduct with a reason; the programme's
// rules; the stores' point-of-sale tokens; CSV imports).
//
// The app learns who the user is only through Portico's launch tokens
// (package plugins/launchkit): POST /launch verifies the token offline,
// exchanges it for the user, finds or creates the customer and starts a
// session whose id travels in the URL path (session.go).
//
// Pages are plain HTML from embedded templates with one stylesheet and one
// small script (the QR scanner and the import progress bar), both served by
// the app under a strict Content-Security-Policy whose frame-ancestors is
// the portal's origin. Everything works without the script.
package web

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portico-dev/portico/plugins/launchkit"
	"github.com/portico-dev/portico/plugins/loyalty/imports"
	"github.com/portico-dev/portico/plugins/loyalty/points"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// Options build the pages.
type Options struct {
	Store *store.Store
	// Launch verifies and exchanges launch tokens with the portal; its
	// portal origin is the only one allowed to frame the pages.
	Launch *launchkit.Client
	// Imports runs CSV imports; nil shows the import page as unavailable.
	Imports *imports.Service
	// MailImports says the imports service mails its report to the
	// uploader (SMTP is configured), which the import page mentions.
	MailImports bool
	Log         *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Location is the zone dates are shown in; America/Sao_Paulo when nil.
	Location *time.Location
	// MaxUpload bounds an uploaded CSV file, in bytes; DefaultMaxUpload
	// when 0.
	MaxUpload int64
}

// DefaultMaxUpload bounds a CSV upload: the imports service's limit
// (100,000 rows of a typical file are about 8 MB).
const DefaultMaxUpload = imports.MaxFileSize

// maxForm bounds every other request body.
const maxForm = 64 << 10

// Handler serves the pages.
type Handler struct {
	o        Options
	sessions *Sessions
	pages    *template.Template
	mux      *http.ServeMux
	csp      string
	css, js  asset
}

type asset struct {
	path string
	body []byte
	ct   string
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/app.css
var stylesheet []byte

//go:embed static/app.js
var script []byte

func newAsset(name, ct string, body []byte) asset {
	sum := sha256.Sum256(body)
	return asset{path: "/static/" + hex.EncodeToString(sum[:6]) + "/" + name, body: body, ct: ct}
}

// New builds the handler.
func New(o Options) (*Handler, error) {
	if o.Store == nil || o.Launch == nil {
		return nil, errors.New("web: a store and a launch client are required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		loc, err := time.LoadLocation("America/Sao_Paulo")
		if err != nil {
			loc = time.UTC
		}
		o.Location = loc
	}
	if o.MaxUpload <= 0 {
		o.MaxUpload = DefaultMaxUpload
	}
	h := &Handler{o: o, sessions: NewSessions(o.Now),
		css: newAsset("app.css", "text/css; charset=utf-8", stylesheet),
		js:  newAsset("app.js", "text/javascript; charset=utf-8", script)}
	loc := o.Location
	funcs := template.FuncMap{
		"t":      translate,
		"pts":    pts,
		"num":    number,
		"signed": signed,
		"int64":  func(n int) int64 { return int64(n) },
		"money":  points.FormatCents,
		"cents":  centsInput,
		"doc":    formatDocument,
		"dt":     func(lang string, t time.Time) string { return dateTime(lang, loc, t) },
		"date":   func(lang string, t time.Time) string { return date(lang, loc, t) },
		"round":  roundingName,
		"mb":     func(n int64) int64 { return n >> 20 },
		// launchkit's script sizes the portal's frame to the page.
		"frameScript":  func() string { return launchkit.FrameScriptPath },
		"portalOrigin": o.Launch.PortalOrigin,
	}
	pages, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse templates: %w", err)
	}
	h.pages = pages
	// The strictest policy the pages work under: their own stylesheet and
	// script, no inline code, images only as data: (none today), the
	// progress endpoint by fetch, forms to ourselves, and framing by the
	// portal alone.
	h.csp = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; media-src 'self' blob: mediastream:; " +
		"form-action 'self'; base-uri 'none'; frame-ancestors " + o.Launch.PortalOrigin()
	h.routes()
	return h, nil
}

// Sessions is the session store (tests look at it).
func (h *Handler) Sessions() *Sessions { return h.sessions }

func (h *Handler) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", h.about)
	m.HandleFunc("POST /launch", h.launch)
	m.HandleFunc("GET /launch", h.launch) // plugins set to launch by GET
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	m.HandleFunc("GET "+h.css.path, h.serveAsset(h.css))
	m.HandleFunc("GET "+h.js.path, h.serveAsset(h.js))
	m.Handle("GET "+launchkit.FrameScriptPath, launchkit.FrameScriptHandler())

	m.HandleFunc("GET /s/{sid}/{$}", h.session(false, h.home))
	m.HandleFunc("GET /s/{sid}/clientes/{id}", h.session(true, h.customerDetail))
	m.HandleFunc("POST /s/{sid}/clientes/{id}/pontos", h.session(true, h.earn))
	m.HandleFunc("POST /s/{sid}/clientes/{id}/resgates", h.session(true, h.spend))
	m.HandleFunc("GET /s/{sid}/escanear", h.session(true, h.scanPage))
	m.HandleFunc("GET /s/{sid}/regras", h.session(true, h.settingsPage))
	m.HandleFunc("POST /s/{sid}/regras", h.session(true, h.saveSettings))
	m.HandleFunc("GET /s/{sid}/lojas", h.session(true, h.shopsPage))
	m.HandleFunc("POST /s/{sid}/lojas", h.session(true, h.createShop))
	m.HandleFunc("POST /s/{sid}/lojas/{id}/revogar", h.session(true, h.revokeShop))
	m.HandleFunc("GET /s/{sid}/importacoes", h.session(true, h.importsPage))
	m.HandleFunc("POST /s/{sid}/importacoes", h.session(true, h.upload))
	m.HandleFunc("GET /s/{sid}/importacoes/{id}", h.session(true, h.importPage))
	m.HandleFunc("GET /s/{sid}/importacoes/{id}/progresso", h.session(true, h.importProgress))
	m.HandleFunc("GET /s/{sid}/importacoes/{id}/relatorio.csv", h.session(true, h.importReport))
	h.mux = m
}

// ServeHTTP sets the headers every page of a framed app needs, refuses
// cross-site form posts, bounds bodies and routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	// The session id in our URLs must not leak to other sites. "same-origin"
	// sends no Referer to them, yet keeps the Origin header on our own form
	// posts (under "no-referrer" a browser sends "Origin: null" there).
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store") // personal data; serveAsset overrides it
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/s/") && !sameOrigin(r) {
		h.fail(w, r, langOf(r), http.StatusForbidden, "bad_origin", fmt.Errorf("cross-origin post: Origin %q, Sec-Fetch-Site %q",
			r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site")))
		return
	}
	if !isUpload(r) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	}
	h.mux.ServeHTTP(w, r)
}

// isUpload is the CSV upload, whose body limit is MaxUpload (upload
// applies it).
func isUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/s/") && strings.HasSuffix(r.URL.Path, "/importacoes")
}

// sameOrigin is the second CSRF defence of the session's forms, after the
// session id in the path: a browser says where a form post comes from, and
// only our own pages may post. Sec-Fetch-Site, which a page cannot forge,
// decides when the browser sends it; otherwise Origin must name our host.
// "Origin: null" (an opaque origin: a sandboxed frame, a data: URL) is
// accepted only when Sec-Fetch-Site vouches for the request.
func sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	if site != "" && site != "same-origin" {
		return false
	}
	o := r.Header.Get("Origin")
	switch {
	case o == "":
		return true
	case o == "null":
		return site == "same-origin"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

func (h *Handler) serveAsset(a asset) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", a.ct)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable") // the URL names the content
		_, _ = w.Write(a.body)
	}
}

// page is what every template gets.
type page struct {
	Lang, CSS, JS string
	// Base is the session's path prefix, "/s/{id}"; "" before a launch.
	Base   string
	Staff  bool
	Active string // the staff navigation's current entry
	Title  string // the page's <title> key
	Flash  string
	// Refresh adds a meta refresh for browsers without script (the
	// import progress page).
	Refresh bool
	D       any
}

func (h *Handler) newPage(s *Session, title, active string, d any) *page {
	p := &page{CSS: h.css.path, JS: h.js.path, Title: title, Active: active, D: d, Lang: "pt-BR"}
	if s != nil {
		p.Lang, p.Base, p.Staff, p.Flash = s.Lang, "/s/"+s.ID, s.Staff, s.TakeFlash()
	}
	return p
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, p *page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := h.pages.ExecuteTemplate(w, name, p); err != nil {
		h.o.Log.Error("render", "page", name, "err", err)
	}
}

// errorData is the error page's.
type errorData struct{ Code string }

// fail shows the error page of code (a key error.{code}).
func (h *Handler) fail(w http.ResponseWriter, _ *http.Request, lang string, status int, code string, err error) {
	if err != nil {
		if status >= 500 {
			h.o.Log.Error("loyalty page failed", "code", code, "err", err)
		} else {
			h.o.Log.Warn("loyalty page refused", "code", code, "err", err)
		}
	}
	if _, known := messages["pt-BR"]["error."+code]; !known {
		code = "token_invalid"
	}
	p := h.newPage(nil, "error.title", "", errorData{Code: code})
	p.Lang = lang
	h.render(w, status, "error.html", p)
}

func (h *Handler) about(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(nil, "app.title", "", nil)
	p.Lang = langOf(r)
	h.render(w, http.StatusOK, "about.html", p)
}

// session wraps a handler of the session named in the path: an unknown or
// ended session shows "open it again from the portal"; staff pages refuse
// a customer's session.
func (h *Handler) session(staff bool, next func(http.ResponseWriter, *http.Request, *Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := h.sessions.Get(r.PathValue("sid"))
		if s == nil {
			h.fail(w, r, langOf(r), http.StatusUnauthorized, "session_ended", nil)
			return
		}
		if staff && !s.Staff {
			h.fail(w, r, s.Lang, http.StatusForbidden, "forbidden", nil)
			return
		}
		next(w, r, s)
	}
}

// home is the page a launch lands on: the staff search for a gestor, the
// customer's points otherwise.
func (h *Handler) home(w http.ResponseWriter, r *http.Request, s *Session) {
	if s.Staff {
		h.search(w, r, s)
		return
	}
	h.customerHome(w, r, s)
}

// internal shows the "try again" page for a failure of ours.
func (h *Handler) internal(w http.ResponseWriter, r *http.Request, s *Session, err error) {
	lang := "pt-BR"
	if s != nil {
		lang = s.Lang
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	h.fail(w, r, lang, http.StatusInternalServerError, "unavailable", err)
}

// redirect answers a form post with 303 to a page of the session.
func redirect(w http.ResponseWriter, r *http.Request, s *Session, path string) {
	http.Redirect(w, r, "/s/"+s.ID+path, http.StatusSeeOther)
}
