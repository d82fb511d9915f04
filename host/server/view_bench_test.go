package server_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testdb"
)

// BenchmarkPluginView measures the logged-in GET
// /api/v1/me/plugins/ola/view: the demo's hello plugin (installed as
// `serve` installs it) rendering its page through the whole server, its
// visit counter written to the database on every view, one user. It is
// the in-process twin of the load script's view rows (bench/load), for
// profiling:
//
//	go test -run '^$' -bench PluginView/sqlite -benchtime 30000x -cpuprofile view.prof ./host/server/
func BenchmarkPluginView(b *testing.B) {
	for _, d := range benchDrivers {
		b.Run(d, func(b *testing.B) {
			hello, _ := buildGuests(b)
			p := servertest.Start(b, d)
			path := filepath.Join(b.TempDir(), "hello.wasm")
			testdb.Must(b, os.WriteFile(path, hello, 0o600), "write hello.wasm")
			_, err := demo.InstallHello(context.Background(), p.Store, path, p.Server.Sandbox.CheckABI)
			testdb.Must(b, err, "install hello")
			benchLoad(b, p, "/api/v1/me/plugins/ola/view", `"view":{`)
		})
	}
}
