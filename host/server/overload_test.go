package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/sdk/abi"
)

// TestWasmOverloadIsShedPerTenant fills the demo tenant's share of the
// process's plugin executions with sleeping calls: the tenant's next call
// answers 503 plugin_overloaded with Retry-After and a localized message
// (JSON and page), while the other tenant's wasm plugin still answers.
func TestWasmOverloadIsShedPerTenant(t *testing.T) {
	p := startWasmPortal(t, "sqlite")
	ctx := context.Background()
	_, multi := buildGuests(t)
	eng := p.Server.Sandbox
	cat, err := i18n.New(nil)
	testdb.Must(t, err, "catalogue")

	// A wasm plugin of the other tenant. Its first view instantiates the
	// guest while the fillers hold the demo tenant's share: the longest
	// timeout keeps a slow _initialize on a busy CI machine from passing
	// for a tenant held back.
	op := &model.Plugin{Slug: "outro-wasm", Name: "outro", Title: "Outro", Type: model.PluginWasm, Icon: "alerta", Active: true,
		ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleCliente, AuthType: model.AuthNone, TimeoutMS: model.MaxTimeoutMS}
	p.InstallWasm(t, p.Other.ID, op, multi, abi.Version)

	cliente := p.NewClient(t, "")
	cliente.Login("cliente@demo.portico.test", demo.Password)
	page := cliente.Do("GET", "/p/lento", nil)
	if page.Status != http.StatusOK {
		t.Fatalf("lento render: %d %.300s", page.Status, page.Body)
	}
	outra := p.NewClient(t, servertest.OtherHost)
	outra.Login("cliente@outra.test", servertest.OtherPassword)

	// Fill the demo tenant's share with calls sleeping until released by
	// their own sleep (4 s, well inside their 10 s deadline).
	share := (sandbox.DefaultMaxExecutions() + 1) / 2
	filler := sandbox.Plugin{TenantID: p.Demo.ID, PluginID: "filler", Slug: "filler", Title: "Filler", VersionID: "filler-v",
		Limits: sandbox.Limits{Timeout: sandbox.MaxTimeout, MaxConcurrent: sandbox.MaxConcurrentCeiling}}
	var wg sync.WaitGroup
	defer wg.Wait()
	for range share {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := &abi.Input{Kind: abi.KindAction, Action: "sleep", Form: map[string][]string{"d": {"4s"}},
				User: abi.User{ID: "u", Role: "cliente", Locale: "pt-BR", Tenant: "demo"}}
			if _, err := eng.Call(ctx, filler, func(context.Context) ([]byte, error) { return multi, nil }, in); err != nil {
				t.Errorf("filler: %v", err)
			}
		}()
	}
	for i := 0; eng.Executing() < share; i++ {
		if i == 2000 {
			t.Fatalf("%d of %d filler calls running after 10 s", eng.Executing(), share)
		}
		time.Sleep(5 * time.Millisecond)
	}

	cliente.Header.Set("Cookie", "portico_lang=es")
	r := cliente.Do("POST", "/api/v1/me/plugins/lento/actions/noop", map[string]any{})
	var body struct {
		Error struct{ Code, Message string }
	}
	r.JSON(t, &body)
	es := cat.Localizer("es")
	if r.Status != http.StatusServiceUnavailable || body.Error.Code != "plugin_overloaded" || r.Header.Get("Retry-After") != "5" ||
		body.Error.Message != es.T("wasm.fail.overloaded", "Title", "Lento") {
		t.Errorf("overloaded json: %d Retry-After %q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	cliente.Header.Del("Cookie")
	r = cliente.Do("POST", "/p/lento/actions/noop", url.Values{"_csrf": {csrfOf(t, page)}})
	if want := cat.Localizer("pt-BR").T("wasm.fail.overloaded", "Title", "Lento"); r.Status != http.StatusServiceUnavailable ||
		!strings.Contains(string(r.Body), want) || r.Header.Get("Retry-After") == "" {
		t.Errorf("overloaded page: %d %.600s", r.Status, r.Body)
	}
	// The other tenant is not held back by the demo tenant's calls.
	r = outra.Do("GET", "/api/v1/me/plugins/outro-wasm/view", nil)
	if r.Status != http.StatusOK {
		t.Errorf("other tenant while the demo tenant is shed: %d %.300s", r.Status, r.Body)
	}
	if got := eng.Executing(); got < share {
		t.Errorf("the fillers ended early (%d running): the test proved nothing", got)
	}
}
