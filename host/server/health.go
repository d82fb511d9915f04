package server

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/internal/storage"
)

// Each node publishes its wasm runtime's plugin health to the database, so
// that the admin of any node shows the whole installation
// (admin.PluginHealth; docs/design.md, "Plugin health across nodes").

// Intervals of the health publisher.
const (
	// HealthPublishInterval is how often a node publishes the health of
	// the plugins whose counters or log lines changed since it last did:
	// the admin of another node is at most this much behind (plus the
	// publication's own time). A node whose plugins are idle writes
	// nothing.
	HealthPublishInterval = 5 * time.Second
	// HealthRefreshInterval is how often a node that published marks its
	// rows current (storage.RefreshPluginHealth: one UPDATE, however many
	// rows) and sweeps the rows of nodes gone for
	// storage.PluginHealthStale (one DELETE).
	HealthRefreshInterval = 30 * time.Second
)

// healthEvery, when positive, replaces HealthPublishInterval for the
// servers started after it is set (tests).
var healthEvery atomic.Int64

// startHealthPublisher publishes this node's plugin health until ctx ends
// or the returned function is called; that function also waits until the
// publisher has stopped and withdrawn the node's rows (Serve defers it).
func (s *Server) startHealthPublisher(ctx context.Context) (stop func()) {
	if s.Sandbox == nil {
		return func() {}
	}
	every := HealthPublishInterval
	if d := time.Duration(healthEvery.Load()); d > 0 {
		every = d
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.publishHealth(ctx, every, HealthRefreshInterval)
	}()
	return func() {
		cancel()
		<-done
	}
}

// publishHealth is the publisher's loop. Every tick it publishes the
// plugins whose health changed since the last successful publication, and
// every refresh it refreshes the node's rows and sweeps gone nodes'. A
// failed write (the database is away) is retried at the next tick with
// every change since the last success, and logged once until it works
// again. When ctx ends it deletes the node's rows, so that the admin stops
// showing a node that left.
func (s *Server) publishHealth(ctx context.Context, every, refresh time.Duration) {
	store, log := s.Env.Store, s.Env.Log
	var mark sandbox.HealthMark
	published, failing := false, false
	refreshed := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if published {
				rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if err := store.RetirePluginHealth(rctx); err != nil {
					log.Warn("plugin health: withdraw this node's rows", "err", err)
				}
				cancel()
			}
			return
		case <-t.C:
		}
		if time.Since(refreshed) > storage.PluginHealthStale/2 {
			// The node could not refresh for long (the database was away,
			// the process was suspended): another node may have swept its
			// rows, so publish everything again.
			mark = 0
		}
		changed, next := s.Sandbox.ChangedHealth(mark)
		err := store.PublishPluginHealth(ctx, healthRows(changed))
		published = published || (err == nil && len(changed) > 0)
		if err == nil && time.Since(refreshed) >= refresh {
			if published {
				_, err = store.RefreshPluginHealth(ctx)
			}
			if err == nil {
				var n int64
				if n, err = store.SweepPluginHealth(ctx); n > 0 {
					log.Info("plugin health: swept the rows of gone nodes", "rows", n)
				}
			}
			if err == nil {
				refreshed = time.Now()
			}
		}
		switch {
		case err != nil && ctx.Err() != nil:
			continue // stopping
		case err != nil:
			if !failing {
				log.Warn("plugin health: publication failed; retrying every interval", "interval_s", every.Seconds(), "err", err)
				failing = true
			}
			continue // keep the mark: the same changes go next time
		case failing:
			log.Info("plugin health: publishing again")
			failing = false
		}
		mark = next
	}
}

// healthRows turns the runtime's snapshots into the rows to publish.
func healthRows(hs []sandbox.PluginHealth) []storage.PluginHealth {
	out := make([]storage.PluginHealth, 0, len(hs))
	for _, h := range hs {
		r := storage.PluginHealth{TenantID: h.TenantID, PluginID: h.PluginID, Calls: h.Calls, Errors: h.Errors, P50: h.P50, P95: h.P95}
		if h.Paused {
			r.BreakerOpenUntil = h.PausedUntil
		}
		// Only as many as a row keeps: the store would cut them anyway.
		for _, e := range h.LastErrors[:min(len(h.LastErrors), storage.PluginHealthMaxErrors)] {
			r.LastErrors = append(r.LastErrors, storage.HealthError{At: e.At, Reason: e.Reason, Detail: e.Detail})
		}
		for _, l := range h.Logs[:min(len(h.Logs), storage.PluginHealthMaxLogs)] {
			r.Logs = append(r.Logs, storage.HealthLog{At: l.At, Level: l.Level, Message: l.Message, Attrs: l.Attrs})
		}
		out = append(out, r)
	}
	return out
}
