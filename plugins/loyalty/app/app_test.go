package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/loyalty/app"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

func TestConfigFromEnv(t *testing.T) {
	for _, k := range []string{"LOYALTY_ADDR", "LOYALTY_DATABASE_URL", "LOYALTY_PORTAL_ORIGIN", "LOYALTY_CLIENT_ID", "LOYALTY_CLIENT_SECRET",
		"LOYALTY_CREDENTIALS_FILE", "LOYALTY_SMTP_URL", "LOYALTY_DEMO", "LOYALTY_TIMEZONE", "LOYALTY_IMPORT_WORKERS"} {
		t.Setenv(k, "")
	}
	t.Setenv("LOYALTY_CREDENTIALS_FILE", "data/loyalty.json")
	c, err := app.ConfigFromEnv()
	if err != nil || c.Addr != "localhost:8092" || c.DatabaseURL != "sqlite://data/loyalty.db" || c.PortalOrigin != "http://localhost:8080" ||
		c.Demo || c.TimeZone != "America/Sao_Paulo" || c.CredentialsFile != "data/loyalty.json" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	t.Setenv("LOYALTY_DEMO", "true")
	t.Setenv("LOYALTY_PORTAL_ORIGIN", "https://portal.example.com/")
	t.Setenv("LOYALTY_SMTP_URL", "smtp://relay.example.com:587?from=pontos@example.com")
	if c, err := app.ConfigFromEnv(); err != nil || !c.Demo || c.PortalOrigin != "https://portal.example.com" || c.SMTPURL == "" {
		t.Fatalf("set: %+v %v", c, err)
	}
	for _, tc := range []struct{ name, value, want string }{
		{"LOYALTY_ADDR", "8092", "LOYALTY_ADDR"},
		{"LOYALTY_DATABASE_URL", "mysql://x", "LOYALTY_DATABASE_URL"},
		{"LOYALTY_PORTAL_ORIGIN", "https://portal.example.com/login", "LOYALTY_PORTAL_ORIGIN"},
		{"LOYALTY_CLIENT_ID", "pc_x", "LOYALTY_CLIENT_SECRET"},
		{"LOYALTY_SMTP_URL", "http://x", "LOYALTY_SMTP_URL"},
		{"LOYALTY_DEMO", "maybe", "LOYALTY_DEMO"},
		{"LOYALTY_TIMEZONE", "Mars/Olympus", "LOYALTY_TIMEZONE"},
		{"LOYALTY_IMPORT_WORKERS", "0", "LOYALTY_IMPORT_WORKERS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			if _, err := app.ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s=%q: %v, want an error naming %s", tc.name, tc.value, err, tc.want)
			}
		})
	}
	t.Setenv("LOYALTY_CREDENTIALS_FILE", "")
	if _, err := app.ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "LOYALTY_CLIENT_ID") {
		t.Errorf("no credentials: %v", err)
	}
}

// TestDemoMatchesPortico: the demo cliente of the loyalty seed is Portico's.
func TestDemoMatchesPortico(t *testing.T) {
	for _, a := range demo.Accounts {
		if a.Email == app.DemoEmail {
			if a.Name != app.DemoName || a.Document != app.DemoDocument {
				t.Errorf("Portico's demo cliente is %s / %s, the loyalty seed's %s / %s", a.Name, a.Document, app.DemoName, app.DemoDocument)
			}
			return
		}
	}
	t.Errorf("Portico has no demo account %s", app.DemoEmail)
}

// clock is a movable clock.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

// TestApp: the demo seed (once, only into an empty programme), the routes
// (the API under /api/, the pages elsewhere), and the expiry job, on both
// databases.
func TestApp(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clk := &clock{}
			url := testdb.URL(t, driver)
			cfg := app.Config{Addr: "127.0.0.1:0", DatabaseURL: url, PortalOrigin: "http://127.0.0.1:1", ClientID: "pc_x", ClientSecret: "pcs_x",
				Demo: true, TimeZone: app.DefaultTimeZone, Logger: testdb.Logger(t), Now: clk.now}
			a, err := app.New(ctx, cfg)
			testdb.Must(t, err, "new")
			t.Cleanup(func() { _ = a.Close(context.Background()) })
			carla, err := a.Store.CustomerBy(ctx, "email", app.DemoEmail)
			testdb.Must(t, err, "demo cliente")
			if carla.Document != app.DemoDocument || carla.Subject != nil {
				t.Errorf("demo cliente %+v", carla)
			}
			bal, _ := a.Store.Balance(ctx, carla.ID)
			n, _, _ := a.Store.Expiring(ctx, carla.ID, clk.now().Add(30*24*time.Hour))
			if bal != 115 || n != 10 {
				t.Errorf("demo balance %d, expiring %d; want 115 and 10", bal, n)
			}
			if seeded, err := app.SeedDemo(ctx, a.Store); err != nil || seeded {
				t.Errorf("a second seed: %v %v", seeded, err)
			}

			srv := httptest.NewServer(a.Handler())
			defer srv.Close()
			get := func(path string) (int, string, string) {
				res, err := http.Get(srv.URL + path)
				testdb.Must(t, err, "get %s", path)
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, res.Header.Get("Content-Type"), string(b)
			}
			if st, ct, body := get("/api/v1/openapi.json"); st != 200 || !strings.Contains(ct, "json") || !strings.Contains(body, "openapi") {
				t.Errorf("API: %d %s", st, ct)
			}
			if st, _, _ := get("/api/v1/customers"); st != http.StatusUnauthorized {
				t.Errorf("the API without a token: %d, want 401", st)
			}
			if st, ct, body := get("/"); st != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "Programa de pontos") {
				t.Errorf("about page: %d %s", st, ct)
			}
			if st, _, _ := get("/healthz"); st != 200 {
				t.Errorf("healthz: %d", st)
			}

			// Expiry runs as a job: the demo's welcome bonus expires after 20 days.
			clk.advance(21 * 24 * time.Hour)
			jctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				a.RunJobs(jctx)
			}()
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if bal, _ = a.Store.Balance(ctx, carla.ID); bal == 105 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			<-done
			h, err := a.Store.History(ctx, carla.ID, "", 1)
			testdb.Must(t, err, "history")
			if bal != 105 || len(h) != 1 || h[0].Kind != store.KindExpire || h[0].Points != -10 {
				t.Errorf("after expiry: balance %d, last movement %+v", bal, h)
			}
		})
	}
}
