package cli_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestRunRefusesWhatThePortalRefuses runs the same hostile views through a
// real portal's JSON API and through `portico plugin run` with the same
// allow-list: each is refused by both with the same code (before, `plugin
// run` printed the view and exited 0), and the control rows pass both.
func TestRunRefusesWhatThePortalRefuses(t *testing.T) {
	dir := pluginHome(t)
	guestPath := filepath.Join(dir, "guest.wasm")
	guest, err := os.ReadFile(guestPath)
	testdb.Must(t, err, "read guest")

	const allowed = "https://erp.example.com"
	ctx := context.Background()
	p := servertest.Start(t, "sqlite")
	info, err := p.Server.Sandbox.Check(ctx, guest)
	testdb.Must(t, err, "check guest")
	pl := &model.Plugin{Slug: "paridade", Name: "Paridade", Title: "Paridade", Type: model.PluginWasm, Icon: "alerta", Active: true,
		ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleCliente, AuthType: model.AuthNone,
		TimeoutMS: model.DefaultTimeoutMS, AllowedHosts: model.StringList{allowed}}
	p.InstallWasm(t, p.Demo.ID, pl, guest, info.ABIVersion)

	cliente := p.NewClient(t, "")
	cliente.Login("cliente@demo.portico.test", demo.Password)
	codeRE := regexp.MustCompile(`\(the portal answers ([a-z_]+)\)`)

	for _, tc := range []struct {
		name, action string
		form         map[string][]string
		want         string // the portal's error code; "" for a view
	}{
		{"link outside the allow-list", "outside_link", nil, "plugin_malformed"},
		{"barcode 012", "odd_barcode", nil, "plugin_malformed"},
		{"download name unlike its type", "exe_download", nil, "plugin_malformed"},
		{"bidi override in a text", "bidi_text", nil, "plugin_malformed"},
		{"101 blocks", "many_blocks", nil, "plugin_malformed"},
		{"action name that is not safe", "9x", nil, "plugin_invalid_input"},
		{"reserved form field", "allowed_link", map[string][]string{"_x": {"1"}}, "plugin_invalid_input"},
		{"link inside the allow-list", "allowed_link", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cliente.Do("POST", "/api/v1/me/plugins/paridade/actions/"+tc.action, map[string]any{"form": tc.form})
			portal := r.ErrorCode()
			if (tc.want == "") != (r.Status == http.StatusOK) || portal != tc.want {
				t.Fatalf("portal: status %d code %q, want %q: %s", r.Status, portal, tc.want, r.Body)
			}
			args := []string{"plugin", "run", guestPath, "--allow-host", allowed, "--action", tc.action}
			for k, vs := range tc.form {
				for _, v := range vs {
					args = append(args, "--form", k+"="+v)
				}
			}
			code, out, errOut := runCLI(t, args...)
			if tc.want == "" {
				if code != 0 {
					t.Fatalf("plugin run: exit %d for a view the portal shows\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
				}
				return
			}
			m := codeRE.FindStringSubmatch(errOut)
			if code != 1 || m == nil || m[1] != portal {
				t.Fatalf("plugin run: exit %d, code %v; the portal answered %q\nstdout:\n%s\nstderr:\n%s", code, m, portal, out, errOut)
			}
		})
	}
}
