package server_test

import (
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
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
			p := servertest.Start(b, d)
			installHello(b, p)
			benchLoad(b, p, "/api/v1/me/plugins/ola/view", `"view":{`)
		})
	}
}
