package launch

import (
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/portico-dev/portico/host/web"
)

// FuzzExchangeRequest feeds arbitrary Authorization headers, content
// types and bodies to the exchange's request parsers (credentials and token). It must never panic;
// a failure is always a 4xx Problem; a success always has non-empty
// credentials and token within the JSON body limit.
func FuzzExchangeRequest(f *testing.F) {
	f.Add("Basic cGNfYWJjOnBjc19zZWNyZXQ=", "application/json", []byte(`{"token":"a.b.c"}`))
	f.Add("basic cGNfYWJjOnBjc19zZWNyZXQ=", "application/json; charset=utf-8", []byte(`{"token":"x"}`))
	f.Add("Basic Og==", "application/json", []byte(`{"token":"x"}`))
	f.Add("Basic !!!", "application/json", []byte(`{}`))
	f.Add("Bearer x", "application/json", []byte(`{"token":"x"}`))
	f.Add("Basic cGNfYWJjOnBjc19zZWNyZXQ=", "text/plain", []byte(`{"token":"x"}`))
	f.Add("Basic cGNfYWJjOnBjc19zZWNyZXQ=", "application/json", []byte(`{"token":"x","extra":1}`))
	f.Add("Basic cGNfYWJjOnBjc19zZWNyZXQ=", "application/json", []byte(`{"token":1}`))
	f.Add("Basic cGNfYWJjOnBjc19zZWNyZXQ=", "application/json", []byte(`{"token":"x"} []`))
	f.Add("Basic "+strings.Repeat("A", maxAuthorization), "application/json", []byte(`{"token":"x"}`))
	app := fiber.New()
	f.Fuzz(func(t *testing.T, authz, ct string, body []byte) {
		rc := &fasthttp.RequestCtx{}
		rc.Request.Header.SetMethod(fiber.MethodPost)
		rc.Request.Header.Set(fiber.HeaderAuthorization, authz)
		rc.Request.Header.Set(fiber.HeaderContentType, ct)
		rc.Request.SetBody(body)
		c := app.AcquireCtx(rc)
		defer app.ReleaseCtx(c)
		id, secret, ok := parseBasic(c.Get(fiber.HeaderAuthorization))
		token, err := parseToken(c)
		if err != nil {
			p := web.AsProblem(err)
			if p.Status < 400 || p.Status > 499 {
				t.Fatalf("status %d for %q %q %q", p.Status, authz, ct, body)
			}
			return
		}
		if !ok {
			if id != "" || secret != "" {
				t.Fatalf("refused credentials returned %q %q", id, secret)
			}
			return
		}
		if id == "" || secret == "" || token == "" || len(token) > web.MaxJSONBody || len(id)+len(secret) > maxAuthorization {
			t.Fatalf("accepted id %q secret %q token %q", id, secret, token)
		}
	})
}
