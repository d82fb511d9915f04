package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// fixtures are what the load needs: keys, logged-in customers, the
// example app's credentials and the finance plugin's choices.
type fixtures struct {
	apiKey  string     // scopes admin and portal_sessions
	users   []*session // load users, each logged in through a portal session
	cliente *session   // the demo cliente, whom the fake ERP knows
	example demoCredentials
	// parcelas and dates are the finance plugin's installment and new due
	// date choices for the demo cliente.
	parcelas, dates []string
	client          *http.Client
}

// Demo accounts and password (internal/demo).
const (
	demoPassword = "portico-demo"
	demoCliente  = "cliente@demo.portico.test"
	demoSindico  = "sindico@demo.portico.test"
)

// setupFixtures creates the API key, points the finance plugin at the
// harness's fake ERP, logs the load users in and reads the finance
// plugin's choices.
func setupFixtures(ctx context.Context, c *cluster) (*fixtures, error) {
	fx := &fixtures{client: newHTTPClient(8)}
	var err error
	if fx.apiKey, err = c.apiKey(ctx, "cluster harness", "admin,portal_sessions"); err != nil {
		return nil, err
	}
	if fx.example, err = c.exampleCredentials(); err != nil {
		return nil, err
	}
	if err := c.pointFinanceAtERP(ctx, fx); err != nil {
		return nil, err
	}
	c.logf("logging in %d load users through portal sessions", c.cfg.users)
	for i := range c.cfg.users {
		s, err := c.portalLogin(ctx, fx, fx.apiKey, fmt.Sprintf("carga-%03d-%s@cluster.portico.test", i+1, c.runID), fmt.Sprintf("Carga %03d", i+1))
		if err != nil {
			return nil, err
		}
		fx.users = append(fx.users, s)
	}
	if fx.cliente, err = c.passwordLogin(ctx, fx.client, c.nginx.base(), demoCliente, demoPassword); err != nil {
		return nil, err
	}
	if err := c.readFinanceChoices(ctx, fx); err != nil {
		return nil, err
	}
	return fx, nil
}

// admin calls the admin API of a node with the harness's key and decodes
// a 2xx JSON answer into out.
func (c *cluster) admin(ctx context.Context, fx *fixtures, base, method, path string, body, out any) (int, error) {
	a := do(ctx, fx.client, call{method: method, url: base + "/api/v1/admin" + path,
		header: http.Header{"Authorization": {"Bearer " + fx.apiKey}}, body: body})
	if a.err != nil {
		return a.status, fmt.Errorf("%s %s: %w", method, path, a.err)
	}
	if a.status >= 300 {
		class, detail := a.describe()
		return a.status, fmt.Errorf("%s %s: %s: %s", method, path, class, detail)
	}
	if out != nil && len(a.body) > 0 {
		if err := json.Unmarshal(a.body, out); err != nil {
			return a.status, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return a.status, nil
}

// pointFinanceAtERP makes the demo's finance plugin read the harness's
// fake ERP (the demo registers http://localhost:8091, which `make run`
// would be using).
func (c *cluster) pointFinanceAtERP(ctx context.Context, fx *fixtures) error {
	base := c.nodes[0].base()
	_, port, _ := net.SplitHostPort(c.erpAddr)
	origin := "http://localhost:" + port
	type configEntry struct {
		Key   string `json:"key"`
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	var p struct {
		Version int64         `json:"version"`
		Config  []configEntry `json:"config"`
	}
	if _, err := c.admin(ctx, fx, base, "GET", "/plugins/financeiro", nil, &p); err != nil {
		return err
	}
	if _, err := c.admin(ctx, fx, base, "PATCH", "/plugins/financeiro", map[string]any{"version": p.Version, "allowed_hosts": []string{origin}}, &p); err != nil {
		return err
	}
	found := false
	for i := range p.Config {
		if p.Config[i].Key == "erp_url" {
			p.Config[i].Value = origin + "/exemplo/public/api/v1"
			found = true
		}
	}
	if !found {
		return fmt.Errorf("the finance plugin has no erp_url setting: was bin/plugins/financeiro.wasm installed? (%s)", c.nodes[0].logPath)
	}
	_, err := c.admin(ctx, fx, base, "PUT", "/plugins/financeiro/config", map[string]any{"version": p.Version, "entries": p.Config}, nil)
	return err
}

// portalLogin creates (and registers, when new) a customer through a
// portal session and opens its link: the session cookie it sets is the
// customer's login. Both requests go through nginx.
func (c *cluster) portalLogin(ctx context.Context, fx *fixtures, key, email, name string) (*session, error) {
	a := do(ctx, fx.client, call{method: "POST", url: c.nginx.base() + "/api/v1/portal/sessions",
		header: http.Header{"Authorization": {"Bearer " + key}},
		body:   map[string]any{"customer_email": email, "create_customer": map[string]string{"name": name}}})
	if a.err != nil || a.status != http.StatusCreated {
		class, detail := a.describe()
		return nil, fmt.Errorf("create portal session for %s: %s: %s", email, class, detail)
	}
	var ps portalSession
	if err := json.Unmarshal(a.body, &ps); err != nil {
		return nil, fmt.Errorf("portal session for %s: %w", email, err)
	}
	path, ok := pathOf(ps.AuthURL)
	if !ok {
		return nil, fmt.Errorf("portal session for %s: auth_url %q", email, ps.AuthURL)
	}
	a = do(ctx, fx.client, call{method: "GET", url: c.nginx.base() + path})
	cookie := sessionCookie(a.header)
	if a.status != http.StatusSeeOther || cookie == "" {
		class, detail := a.describe()
		return nil, fmt.Errorf("open portal session for %s: %s: %s", email, class, detail)
	}
	return &session{email: email, userID: ps.Customer.ID, cookie: cookie}, nil
}

// passwordLogin logs in with e-mail and password.
func (c *cluster) passwordLogin(ctx context.Context, client *http.Client, base, email, password string) (*session, error) {
	a := do(ctx, client, call{method: "POST", url: base + "/api/v1/session", body: map[string]string{"email": email, "password": password}})
	cookie := sessionCookie(a.header)
	if a.status != http.StatusOK || cookie == "" {
		class, detail := a.describe()
		return nil, fmt.Errorf("log in as %s: %s: %s", email, class, detail)
	}
	var me struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	_ = json.Unmarshal(a.body, &me)
	return &session{email: email, userID: me.User.ID, cookie: cookie}, nil
}

// readFinanceChoices reads the installments and due dates the finance
// plugin offers the demo cliente.
func (c *cluster) readFinanceChoices(ctx context.Context, fx *fixtures) error {
	var last string
	for range 10 {
		a := do(ctx, fx.client, call{method: "GET", url: c.nginx.base() + "/api/v1/me/plugins/financeiro/view", header: fx.cliente.header()})
		if a.status == http.StatusOK {
			var v view
			if err := json.Unmarshal(a.body, &v); err != nil {
				return fmt.Errorf("finance view: %w", err)
			}
			seen := map[string]bool{}
			for _, b := range v.View.Blocks {
				for _, f := range b.Fields {
					for _, o := range f.Options {
						switch f.Name {
						case "parcela":
							fx.parcelas = append(fx.parcelas, o.Value)
						case "vencimento":
							if !seen[o.Value] {
								seen[o.Value] = true
								fx.dates = append(fx.dates, o.Value)
							}
						}
					}
				}
			}
			if len(fx.parcelas) > 0 && len(fx.dates) > 0 {
				return nil
			}
			last = clip(string(a.body), 300)
		} else {
			_, last = a.describe()
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("the finance plugin offers no installment to the demo cliente (is the fake ERP reachable?): %s", strings.TrimSpace(last))
}
