package ui_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestAdminUIHostileText posts the admin forms (where invalid UTF-8 can
// travel, unlike JSON) with text the one text rule refuses, on both
// databases: each answer is a 422 page whose message, in the gestor's
// language, names what is wrong, and nothing is stored.
func TestAdminUIHostileText(t *testing.T) {
	texts := map[string]string{"nul": "Ana\x00Maria", "not utf-8": "Ana\xffMaria", "bidi": "Ana\u202eMaria", "separator": "Ana\u2028Maria"}
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			p := servertest.Start(t, driver)
			cat := loadCatalog(t)
			g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
			before := admintest.State(t, p, p.Demo.ID)
			version := versionRe.FindStringSubmatch(string(g.get("/admin/settings", "es").Body))[1]
			for kind, v := range texts {
				plugin := pluginFormValues()
				plugin.Set("title", v)
				forms := []struct {
					name, path, id string
					form           url.Values
				}{
					{"user name", "/admin/users", "f-name", url.Values{"email": {"nova@exemplo.com.br"}, "name": {v}, "roles": {"cliente"}}},
					{"tenant name", "/admin/settings", "f-name", url.Values{"version": {version}, "name": {v}, "brand_name": {"Nova"},
						"primary_color": {"#0b6e4f"}, "primary_color_was": {"#0b6e4f"}, "default_locale": {"es"}, "portal_session_minutes": {"60"}}},
					{"api key name", "/admin/api-keys", "f-name", url.Values{"name": {v}, "scopes": {"admin"}}},
					{"plugin title", "/admin/plugins", "f-title", plugin},
				}
				for _, f := range forms {
					r := g.post(f.path, "es", f.form)
					if r.Status != 422 {
						t.Errorf("%s %s: status %d, want 422: %.300s", f.name, kind, r.Status, r.Body)
						continue
					}
					if !strings.Contains(fieldBlock(t, string(r.Body), f.id), catalogText(t, cat, "es", "validation.invalid_text")) {
						t.Errorf("%s %s: the field does not say what is wrong", f.name, kind)
					}
				}
			}
			if after := admintest.State(t, p, p.Demo.ID); after != before {
				t.Fatalf("hostile text changed the tenant:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}
