package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/portico-dev/portico/internal/testdb"
)

// TestResetLinkInvalidatesEarlierOnes: issuing a reset link invalidates
// every earlier link of the user, and so does a password change; over
// HTTP, on both databases.
func TestResetLinkInvalidatesEarlierOnes(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := start(t, driver)
			u, err := f.p.Store.UserByEmail(context.Background(), f.p.Demo.ID, "cliente@demo.portico.test")
			testdb.Must(t, err, "load user")
			link := func() string {
				t.Helper()
				r := f.byKey.Do("POST", adminPrefix+"/users/"+u.ID+"/reset-link", map[string]any{})
				var out struct {
					Path string `json:"path"`
				}
				r.JSON(t, &out)
				if r.Status != http.StatusCreated || out.Path == "" {
					t.Fatalf("reset link: %d %s", r.Status, r.Body)
				}
				return out.Path
			}
			// use opens a link and sets password pw through it; it returns
			// the status of the form's answer (303 when the password was set).
			use := func(path, pw string) int {
				t.Helper()
				anon := f.p.NewClient(t, "")
				page := anon.Do("GET", path, nil)
				cm := csrfRe.FindSubmatch(page.Body)
				if cm == nil {
					return page.Status
				}
				return anon.Do("POST", path, url.Values{"_csrf": {string(cm[1])}, "password": {pw}, "confirm": {pw}}).Status
			}
			link1 := link()
			link2 := link()
			if st := use(link2, "senha-do-link-dois"); st != http.StatusSeeOther {
				t.Fatalf("link 2: %d", st)
			}
			if st := use(link1, "senha-do-link-um"); st != http.StatusNotFound {
				t.Errorf("link 1 still set a password after link 2 was issued and used: %d", st)
			}
			// A link issued before a password change is refused after it.
			link3 := link()
			link4 := link()
			if st := use(link4, "senha-do-link-quatro"); st != http.StatusSeeOther {
				t.Fatalf("link 4: %d", st)
			}
			if st := use(link3, "senha-do-link-tres"); st != http.StatusNotFound {
				t.Errorf("link 3 still worked after the password changed: %d", st)
			}
			c := f.p.NewClient(t, "")
			c.Login("cliente@demo.portico.test", "senha-do-link-quatro")
			if r := c.Do("POST", "/api/v1/session", map[string]string{"email": "cliente@demo.portico.test", "password": "senha-do-link-um"}); r.Status == http.StatusOK {
				t.Errorf("the password set through the stale link logs in")
			}
		})
	}
}
