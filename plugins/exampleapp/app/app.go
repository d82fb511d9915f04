// Package app is Portico's example iframe plugin: the smallest complete app
// that receives a launch token, checks it, learns who the user is, and keeps
// a session inside the portal's frame. Copy it as the start of your own.
//
// The flow, in the order the code runs (docs/launch.md has the diagram):
//
//  1. The portal's launch page form-POSTs portico_token to /launch (or,
//     for plugins set to "get", opens /launch?portico_token=…).
//  2. launchkit.Verifier (plugins/launchkit/verify.go) checks the token
//     offline against the portal's JWKS: EdDSA signature, iss = the
//     portal, aud = our client_id, exp/nbf.
//  3. launchkit.Exchanger (plugins/launchkit/exchange.go) trades it,
//     server to server, for the user's data. The portal answers once per
//     token: a replayed token gets token_used. launchkit.Client does 2
//     and 3 with our credentials.
//  4. session.go keeps the user in a session whose id travels in the
//     frame's links and forms (no third-party cookies), and /launch
//     redirects there, so a reload of the frame's page never re-posts the
//     token.
package app

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/portico-dev/portico/internal/document"
	"github.com/portico-dev/portico/plugins/launchkit"
)

// Config is what the app needs to know. ConfigFromEnv documents the
// environment variables that fill it.
type Config struct {
	// PortalOrigin is the portal's origin, exactly as the tokens' iss
	// claim names it, e.g. https://portal.construtora.com.br (no path, no
	// trailing slash). The JWKS and the exchange are under it.
	PortalOrigin string
	// ClientID and ClientSecret are the plugin's credentials, shown once
	// when the gestor registered the plugin (or rotated its secret).
	ClientID     string
	ClientSecret string
	// CredentialsFile, used when ClientID is empty, is a JSON file
	// {"client_id","client_secret"[,"portal_origin"]} read at each launch.
	// Portico's demo writes one (data/exampleapp.json, mode 0600), so
	// `make run` needs no copy-and-paste.
	CredentialsFile string
	// Addr is where the app listens, e.g. localhost:8090.
	Addr string
	// Logger receives one line per launch; slog.Default() when nil.
	Logger *slog.Logger
	// HTTP is the client for the exchange; a 10-second client when nil.
	HTTP *http.Client
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// ConfigFromEnv reads:
//
//	EXAMPLEAPP_PORTAL_ORIGIN     the portal's origin (default http://localhost:8080)
//	EXAMPLEAPP_CLIENT_ID         the plugin's client_id (pc_…)
//	EXAMPLEAPP_CLIENT_SECRET     the plugin's client_secret (pcs_…)
//	EXAMPLEAPP_CREDENTIALS_FILE  instead of the two above: a JSON file with them
//	EXAMPLEAPP_ADDR              listen address (default localhost:8090)
func ConfigFromEnv() (Config, error) {
	c := Config{
		PortalOrigin:    envOr("EXAMPLEAPP_PORTAL_ORIGIN", "http://localhost:8080"),
		ClientID:        os.Getenv("EXAMPLEAPP_CLIENT_ID"),
		ClientSecret:    os.Getenv("EXAMPLEAPP_CLIENT_SECRET"),
		CredentialsFile: os.Getenv("EXAMPLEAPP_CREDENTIALS_FILE"),
		Addr:            envOr("EXAMPLEAPP_ADDR", "localhost:8090"),
	}
	return c, c.Validate()
}

func envOr(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// Validate checks the configuration once at start.
func (c *Config) Validate() error {
	u, err := url.Parse(c.PortalOrigin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("EXAMPLEAPP_PORTAL_ORIGIN must be an origin such as https://portal.example.com, got %q", c.PortalOrigin)
	}
	c.PortalOrigin = u.Scheme + "://" + u.Host
	if (c.ClientID == "") != (c.ClientSecret == "") {
		return errors.New("set both EXAMPLEAPP_CLIENT_ID and EXAMPLEAPP_CLIENT_SECRET, or neither")
	}
	if c.ClientID == "" && c.CredentialsFile == "" {
		return errors.New("set EXAMPLEAPP_CLIENT_ID and EXAMPLEAPP_CLIENT_SECRET (or EXAMPLEAPP_CREDENTIALS_FILE)")
	}
	return nil
}

// App is the example plugin's HTTP handler.
type App struct {
	cfg      Config
	launcher *launchkit.Client
	sessions *Sessions
	pages    *template.Template
	log      *slog.Logger
	css      []byte // static/app.css
	cssPath  string // /static/{sha256 prefix}/app.css
}

//go:embed templates/*.html
var templateFS embed.FS

// stylesheet is the app's only stylesheet, served by the app (CSP
// style-src 'self'; no inline styles, no web fonts).
//
//go:embed static/app.css
var stylesheet []byte

// New builds the app. ctx bounds the JWKS cache's background refresh.
func New(ctx context.Context, cfg Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l, err := launchkit.NewClient(ctx, launchkit.ClientConfig{PortalOrigin: cfg.PortalOrigin,
		Credentials:     launchkit.Credentials{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret},
		CredentialsFile: cfg.CredentialsFile, HTTP: cfg.HTTP, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	pages, err := parsePages(cfg.PortalOrigin)
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	sum := sha256.Sum256(stylesheet)
	return &App{cfg: cfg, launcher: l, sessions: NewSessions(cfg.Now), pages: pages, log: cfg.Logger,
		css: stylesheet, cssPath: "/static/" + hex.EncodeToString(sum[:6]) + "/app.css"}, nil
}

// Sessions exposes the session store (tests look at it).
func (a *App) Sessions() *Sessions { return a.sessions }

// Handler returns the app's routes.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.showAbout)
	mux.HandleFunc("POST /launch", a.launch)
	mux.HandleFunc("GET /launch", a.launch) // only for plugins set to launch by GET
	mux.HandleFunc("GET /s/{sid}/{$}", a.showHome)
	mux.HandleFunc("POST /s/{sid}/notes", a.addNote)
	mux.HandleFunc("GET "+a.cssPath, a.serveCSS)
	mux.Handle("GET "+launchkit.FrameScriptPath, launchkit.FrameScriptHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return a.secureHeaders(http.MaxBytesHandler(mux, 16<<10))
}

// secureHeaders sets what every page of a framed app should send:
// frame-ancestors lets ONLY the portal frame us (no clickjacking from
// elsewhere), no-referrer keeps the session id in our URLs to ourselves,
// and no page is cached (they hold personal data). The one script is
// launchkit's, which sizes the portal's frame to the page.
func (a *App) secureHeaders(next http.Handler) http.Handler {
	csp := "default-src 'none'; style-src 'self'; script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors " + a.cfg.PortalOrigin
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store") // serveCSS overrides it for the stylesheet
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// launch is where the portal sends the user: verify, exchange, start a
// session, then redirect (303) to the session's page.
func (a *App) launch(w http.ResponseWriter, r *http.Request) {
	token := r.FormValue("portico_token") // the POST body, or the query for GET launches
	lang := langOf(r)
	if token == "" {
		if r.Method == http.MethodGet {
			a.showAbout(w, r)
			return
		}
		a.fail(w, lang, http.StatusBadRequest, "token_missing", nil)
		return
	}
	// 1. Offline (signature, alg, iss, aud, exp/nbf), then 2. the back
	// channel: exactly once, with our credentials.
	claims, user, err := a.launcher.Launch(r.Context(), token)
	if errors.Is(err, launchkit.ErrNotConfigured) {
		a.fail(w, lang, http.StatusBadGateway, "not_configured", err)
		return
	}
	if err != nil {
		a.refused(w, lang, err)
		return
	}
	// 3. Our own session; the token has done its job and is forgotten.
	s := a.sessions.Create(*user, *claims)
	a.log.Info("launch", "tenant", user.Tenant, "user", user.ID, "role", user.Role, "jti", claims.JTI)
	http.Redirect(w, r, "/s/"+s.ID+"/", http.StatusSeeOther)
}

// refused shows the error page of a refused token, or of a portal we
// could not reach.
func (a *App) refused(w http.ResponseWriter, lang string, err error) {
	var te *TokenError
	if !errors.As(err, &te) {
		a.fail(w, lang, http.StatusBadGateway, "portal_unreachable", err)
		return
	}
	status := http.StatusUnauthorized
	if te.Code == "invalid_client" {
		status = http.StatusBadGateway // our credentials are wrong: not the user's fault
	}
	a.fail(w, lang, status, te.Code, err)
}

// serveCSS serves the stylesheet. Its URL names its content, so it is
// cached for good: a changed stylesheet gets a new URL.
func (a *App) serveCSS(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(a.css)
}

// errorPage is the data of the error and about pages; every page has Lang
// and CSS (the stylesheet's URL) for the shared head.
type errorPage struct {
	Lang, CSS, Code string
}

func (a *App) fail(w http.ResponseWriter, lang string, status int, code string, err error) {
	if err != nil {
		a.log.Warn("launch refused", "code", code, "err", err)
	}
	if _, known := messages["pt-BR"]["error."+code]; !known {
		code = "token_invalid"
	}
	a.render(w, status, "error.html", errorPage{Lang: lang, CSS: a.cssPath, Code: code})
}

func (a *App) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := a.pages.ExecuteTemplate(w, name, data); err != nil {
		a.log.Error("render", "page", name, "err", err)
	}
}

func (a *App) showAbout(w http.ResponseWriter, r *http.Request) {
	a.render(w, http.StatusOK, "about.html", errorPage{Lang: langOf(r), CSS: a.cssPath})
}

// parsePages parses the app's templates with their functions.
func parsePages(portalOrigin string) (*template.Template, error) {
	return template.New("").Funcs(template.FuncMap{"t": translate, "word": word,
		// A profile field of the exchange is nil when the gestor did not
		// grant it, and "" when granted but the user has none: the page
		// says which. A CPF or CNPJ is shown with its punctuation.
		"field": func(lang string, p *string) profileField {
			return profileField{Lang: lang, Granted: p != nil, Text: launchkit.Str(p)}
		},
		"taxID": func(lang string, p *string) profileField {
			return profileField{Lang: lang, Granted: p != nil, Text: document.Format(launchkit.Str(p))}
		},
		"minutesLeft": func(t time.Time) int {
			return max(0, int(math.Ceil(time.Until(t).Minutes())))
		},
		"frameScript":  func() string { return launchkit.FrameScriptPath },
		"portalOrigin": func() string { return portalOrigin }}).ParseFS(templateFS, "templates/*.html")
}

// profileField is one profile field of the exchange as the page shows it.
type profileField struct {
	Lang    string
	Granted bool
	Text    string
}

type homePage struct {
	Lang    string
	CSS     string
	S       *Session
	Notes   []string
	Expires time.Time
	Full    bool
}

// session returns the session named in the path, or shows the "session
// ended" page.
func (a *App) session(w http.ResponseWriter, r *http.Request) *Session {
	s := a.sessions.Get(r.PathValue("sid"))
	if s == nil {
		a.fail(w, langOf(r), http.StatusUnauthorized, "session_ended", nil)
	}
	return s
}

func (a *App) showHome(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	if s == nil {
		return
	}
	notes := a.sessions.Notes(s)
	a.render(w, http.StatusOK, "home.html", homePage{Lang: pickLang(s.User.Locale), CSS: a.cssPath, S: s, Notes: notes,
		Expires: s.Created.Add(SessionAbsolute), Full: len(notes) >= MaxNotes})
}

// addNote shows that forms inside the frame keep the session: the session
// id in the form's action is all it takes.
func (a *App) addNote(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	if s == nil {
		return
	}
	note := strings.TrimSpace(r.FormValue("note"))
	if note != "" {
		if len([]rune(note)) > MaxNoteLength {
			note = string([]rune(note)[:MaxNoteLength])
		}
		a.sessions.AddNote(s, note)
	}
	http.Redirect(w, r, "/s/"+s.ID+"/", http.StatusSeeOther)
}
