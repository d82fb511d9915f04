package portal

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/net/html"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/registry"
	"github.com/portico-dev/portico/sdk/abi"
)

// urlAttrs are the attributes the portal's pages put URLs in (data-action
// is one for the browser's sanitiser rules as for html/template's).
var urlAttrs = map[string]bool{"href": true, "src": true, "action": true, "formaction": true, "data-action": true}

// TestHostileURLsAreNeutralised renders blocks that did not go through
// wasmview.Clean (which refuses them first), with URLs a hostile plugin or
// tenant could try, and checks every URL attribute of the page: it is a
// path on the portal, an http(s) link, templ's sanitised placeholder, or
// the download's data: URL the host itself builds.
func TestHostileURLsAreNeutralised(t *testing.T) {
	p, l := newTestPortal(t)
	hostile := []string{
		"javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
		"vbscript:msgbox(1)", "data:text/html,<script>alert(1)</script>", `javascript:alert("x")//`,
	}
	blocks := []abi.Block{{Type: abi.BlockForm, Buttons: []abi.Button{{Label: "Ok", Action: "ok"}}}}
	for _, u := range hostile {
		blocks = append(blocks,
			abi.Block{Type: abi.BlockLink, Label: "x", URL: u},
			abi.Block{Type: abi.BlockForm, Buttons: []abi.Button{{Label: "b", Action: u}}})
	}
	blocks = append(blocks, abi.Block{Type: abi.BlockDownload, Label: "d", Filename: "a.csv", ContentType: "text/csv", Data: []byte("a")})
	v := &view{assets: p.assets, L: l, Tenant: &model.Tenant{BrandName: "Exemplo", LogoURL: "javascript:alert(1)"}, User: &model.User{Name: "Ana"},
		CSRF: "tok", Locales: web.LocaleOptions(l), Back: "/", Plugin: &model.Plugin{Slug: "fin", Title: "Financeiro", Icon: "financeiro"}}
	page := &wasmPage{view: v, Slug: "fin"}
	if err := page.setView(&abi.View{Blocks: blocks}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pluginWasmPage(page).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	z := html.NewTokenizer(&buf)
	checked, placeholders := 0, 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if !errors.Is(z.Err(), io.EOF) {
				t.Fatal(z.Err())
			}
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		for _, a := range tok.Attr {
			if !urlAttrs[a.Key] {
				continue
			}
			checked++
			switch u, err := url.Parse(a.Val); {
			case a.Val == string(templ.FailedSanitizationURL):
				placeholders++
			case err != nil:
				t.Errorf("<%s %s=%q>: not a URL: %v", tok.Data, a.Key, a.Val, err)
			case u.Scheme == "" && (strings.HasPrefix(a.Val, "/") || strings.HasPrefix(a.Val, "#") || a.Key == "data-action"):
			case u.Scheme == "https" || u.Scheme == "http":
			case u.Scheme == "data" && tok.Data == "a" && strings.HasPrefix(a.Val, "data:text/csv;base64,"):
			default:
				t.Errorf("<%s %s=%q> reached the page", tok.Data, a.Key, a.Val)
			}
		}
	}
	// Each hostile link's href and button's data-action, and the logo.
	if want := 2*len(hostile) + 1; placeholders != want {
		t.Errorf("%d URLs replaced by %s, want %d", placeholders, templ.FailedSanitizationURL, want)
	}
	if checked < 3*len(hostile) {
		t.Fatalf("only %d URL attributes checked; the scan is broken", checked)
	}
}

// TestFailedRenderSendsNoPartialPage: a component that fails half-way
// leaves nothing of itself in the response; the error handler's answer is
// all the client gets.
func TestFailedRenderSendsNoPartialPage(t *testing.T) {
	broken := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, "<!doctype html><p>half"); err != nil {
			return err
		}
		return errors.New("broken component")
	})
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		return c.Status(fiber.StatusInternalServerError).SendString("error page: " + err.Error())
	}})
	app.Get("/", func(c *fiber.Ctx) error { return renderPage(c, fiber.StatusOK, broken) })
	res, err := app.Test(httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != fiber.StatusInternalServerError || string(body) != "error page: broken component" {
		t.Fatalf("got %d %q, want 500 and only the error page", res.StatusCode, body)
	}
}

// TestMissingCardSaysSo: a home card that failed or was late says, in the
// reader's language, that the summary is unavailable, rather than showing
// an empty bar that looks like a page still loading.
func TestMissingCardSaysSo(t *testing.T) {
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	entries := []registry.MenuEntry{{Slug: "financeiro", Title: "Financeiro", Path: "/p/financeiro", Icon: "financeiro", HomeCard: true, CardMissing: true}}
	for loc, want := range map[string]string{"pt-BR": "Resumo indisponível agora", "es": "Resumen no disponible ahora", "en": "Summary unavailable right now"} {
		var buf bytes.Buffer
		if err := menu(cat.Localizer(loc), entries).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); !strings.Contains(got, `data-testid="home-card-missing">`+want+`</span>`) {
			t.Errorf("%s: the missing card does not say %q: %s", loc, want, got)
		}
	}
}
