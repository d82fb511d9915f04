package server_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/host/server"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// healthAnswer is GET /api/v1/admin/plugins/{slug}/health.
type healthAnswer struct {
	Scope       string     `json:"scope"`
	Available   bool       `json:"available"`
	Calls       int64      `json:"calls"`
	Errors      int64      `json:"errors"`
	ErrorRate   float64    `json:"error_rate"`
	P50MS       float64    `json:"p50_ms"`
	P95MS       float64    `json:"p95_ms"`
	Paused      bool       `json:"paused"`
	PausedUntil *time.Time `json:"paused_until"`
	Percentiles string     `json:"percentiles"`
	Partial     bool       `json:"partial"`
	LastErrors  []struct {
		At     time.Time `json:"at"`
		Reason string    `json:"reason"`
		Detail string    `json:"detail"`
		Node   string    `json:"node"`
	} `json:"last_errors"`
	Logs  []struct{ Node, Message string } `json:"logs"`
	Nodes []struct {
		ID          string     `json:"id"`
		Host        string     `json:"host"`
		Name        string     `json:"name"`
		ThisNode    bool       `json:"this_node"`
		Calls       int64      `json:"calls"`
		Errors      int64      `json:"errors"`
		P95MS       float64    `json:"p95_ms"`
		Paused      bool       `json:"paused"`
		PausedUntil *time.Time `json:"paused_until"`
		UpdatedAt   *time.Time `json:"updated_at"`
	} `json:"nodes"`
}

// TestHealthAcrossNodes: two servers on one PostgreSQL schema are two
// nodes. A plugin fails on node B until B's circuit breaker opens; the
// admin of node A (API and page) shows B's calls, errors and open breaker,
// named, within the publish interval, next to A's own live numbers, and
// stops showing B when B shuts down.
func TestHealthAcrossNodes(t *testing.T) {
	const every = 200 * time.Millisecond
	defer server.SetHealthPublishIntervalForTest(every)()
	ctx := context.Background()
	url := testdb.URL(t, "postgres")
	a := servertest.StartOnStore(t, testdb.OpenURL(t, url), nil)
	_, multi := buildGuests(t)
	abiVersion, err := a.Server.Sandbox.CheckABI(ctx, multi)
	testdb.Must(t, err, "check guest")
	pl := &model.Plugin{Slug: "instavel", Name: "Instável", Title: "Instável", Type: model.PluginWasm, Icon: "alerta", Active: true,
		ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleAmbos, AuthType: model.AuthNone}
	a.InstallWasm(t, a.Demo.ID, pl, multi, abiVersion)
	b, stopB := servertest.StartNode(t, testdb.OpenURL(t, url), a, nil)
	if a.Store.Node() == b.Store.Node() {
		t.Fatal("the two nodes share a node ID")
	}
	nameA, nameB := admin.NodeName(a.Store.NodeHost(), a.Store.Node()), admin.NodeName(b.Store.NodeHost(), b.Store.Node())

	// Two good calls on A, five crashes on B by three people: B's breaker
	// opens (the default threshold and number of people), A's stays
	// closed.
	onA := a.NewClient(t, "")
	onA.Login("cliente@demo.portico.test", demo.Password)
	for range 2 {
		if r := onA.Do("GET", "/api/v1/me/plugins/instavel/view", nil); r.Status != http.StatusOK {
			t.Fatalf("render on A: %d %.300s", r.Status, r.Body)
		}
	}
	var onB *servertest.Client
	for _, email := range []string{"cliente@demo.portico.test", "cliente@demo.portico.test", "sindico@demo.portico.test",
		"sindico@demo.portico.test", "ambos@demo.portico.test"} {
		onB = b.NewClient(t, "")
		onB.Login(email, demo.Password)
		if r := onB.Do("POST", "/api/v1/me/plugins/instavel/actions/trap", map[string]any{}); r.Status != http.StatusBadGateway {
			t.Fatalf("trap on B as %s: %d %.300s", email, r.Status, r.Body)
		}
	}
	failed := time.Now()
	if r := onB.Do("POST", "/api/v1/me/plugins/instavel/actions/trap", map[string]any{}); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("B's breaker did not open: %d %.300s", r.Status, r.Body)
	}
	if h := a.Server.Sandbox.Health(a.Demo.ID, pl.ID); h.Paused || h.Errors != 0 || h.Calls != 2 {
		t.Fatalf("A's own runtime: %+v", h)
	}

	// A's admin sees B within the publish interval.
	api := a.NewClient(t, "")
	api.Header.Set("Authorization", "Bearer "+newKey(t, a, a.Demo.ID, model.ScopeAdmin))
	var h healthAnswer
	var seen time.Duration
	for deadline := time.Now().Add(every + 5*time.Second); ; {
		r := api.Do("GET", "/api/v1/admin/plugins/instavel/health", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("health on A: %d %.300s", r.Status, r.Body)
		}
		h = healthAnswer{}
		r.JSON(t, &h)
		if h.Errors == 6 {
			seen = time.Since(failed)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A's admin did not show B's errors within %v: %s", every+5*time.Second, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("B's failures seen in A's admin after %v (publish interval %v)", seen, every)
	if h.Scope != "installation" || !h.Available || h.Calls != 8 || h.Errors != 6 || h.ErrorRate != 0.75 || !h.Paused ||
		h.PausedUntil == nil || h.Percentiles != "max_over_nodes" || h.Partial {
		t.Errorf("totals: %+v", h)
	}
	if len(h.Nodes) != 2 {
		t.Fatalf("nodes: %+v", h.Nodes)
	}
	na, nb := h.Nodes[0], h.Nodes[1]
	if !na.ThisNode || na.ID != a.Store.Node() || na.Name != nameA || na.Calls != 2 || na.Errors != 0 || na.Paused || na.UpdatedAt != nil {
		t.Errorf("node A: %+v", na)
	}
	if nb.ThisNode || nb.ID != b.Store.Node() || nb.Name != nameB || nb.Host != b.Store.NodeHost() || nb.Calls != 6 || nb.Errors != 6 ||
		!nb.Paused || nb.PausedUntil == nil || !nb.PausedUntil.Equal(*h.PausedUntil) || nb.UpdatedAt == nil {
		t.Errorf("node B: %+v", nb)
	}
	if h.P95MS != max(na.P95MS, nb.P95MS) {
		t.Errorf("p95 %v is not the slowest node's (%v, %v)", h.P95MS, na.P95MS, nb.P95MS)
	}
	if len(h.LastErrors) != 6 {
		t.Fatalf("last errors: %+v", h.LastErrors)
	}
	reasons := map[string]int{}
	for i, e := range h.LastErrors {
		if e.Node != nameB {
			t.Errorf("error %d on %q, want %q", i, e.Node, nameB)
		}
		if i > 0 && e.At.After(h.LastErrors[i-1].At) {
			t.Errorf("errors not newest first: %v after %v", e.At, h.LastErrors[i-1].At)
		}
		reasons[e.Reason]++
	}
	if reasons["trap"] != 5 || reasons["paused"] != 1 {
		t.Errorf("reasons %v", reasons)
	}

	// The page says the same, in the gestor's language.
	cat, err := i18n.New(nil)
	testdb.Must(t, err, "catalogue")
	en := cat.Localizer("en")
	gestor := a.NewClient(t, "")
	gestor.Login("gestor@demo.portico.test", demo.Password)
	r := gestor.Do("GET", "/admin/plugins/instavel/versions", nil, "Accept-Language", "en")
	body := html.UnescapeString(string(r.Body))
	if r.Status != http.StatusOK {
		t.Fatalf("versions page on A: %d", r.Status)
	}
	for _, want := range []string{`data-testid="health-calls">8<`, `data-testid="health-errors">6<`, `data-testid="health-nodes-table"`,
		nameA, nameB, en.T("versions.health.this_node"), en.T("versions.health.percentiles"),
		en.T("versions.health.paused_on", "Nodes", nameB, "Until", en.DateTime(*h.PausedUntil, a.Demo.Location(), true)),
		"<td><code>" + nameB + "</code></td><td>" + en.T("versions.reason.trap") + "</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("A's health page lacks %q", want)
		}
	}
	if n := strings.Count(body, `data-testid="health-node"`); n != 2 {
		t.Errorf("%d node rows on the page, want 2", n)
	}
	r = gestor.Do("GET", "/admin/plugins", nil, "Accept-Language", "en")
	if want := en.T("versions.health.paused_short"); !strings.Contains(string(r.Body), `data-testid="health-instavel">`+want+"<") {
		t.Errorf("the plugin list does not show the plugin paused (on B): %.3000s", r.Body)
	}

	// B shuts down: it withdraws its rows, and A shows itself alone.
	stopB()
	r = api.Do("GET", "/api/v1/admin/plugins/instavel/health", nil)
	h = healthAnswer{}
	r.JSON(t, &h)
	if len(h.Nodes) != 1 || !h.Nodes[0].ThisNode || h.Calls != 2 || h.Errors != 0 || h.Paused || len(h.LastErrors) != 0 {
		t.Errorf("after B stopped: %s", r.Body)
	}
}
