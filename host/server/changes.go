package server

import (
	"context"
	"time"

	"github.com/portico-dev/portico/internal/metrics"
	"github.com/portico-dev/portico/internal/storage"
)

// listenForChanges keeps the store's change listener running until ctx
// ends (PostgreSQL; nothing to do on SQLite, which one process serves):
// another node's change to a session, user, API key, tenant or plugin
// reaches this node's caches through it.
func (s *Server) listenForChanges(ctx context.Context, opts storage.ListenOptions) {
	if err := s.Env.Store.Listen(ctx, opts); err != nil {
		s.Env.Log.Error("change listener stopped", "err", err)
	}
}

// countInvalidations records every change the caches apply in the
// metrics: by kind, local (this process wrote it) or remote (heard from
// another node, with the lag from its commit, on that node's clock).
func countInvalidations(store *storage.Store, m *metrics.Metrics) {
	if m == nil {
		return
	}
	store.OnChange(func(ch storage.Change) {
		if !ch.Remote {
			m.CacheInvalidated(string(ch.Kind), metrics.SourceLocal, 0)
			return
		}
		m.CacheInvalidated(string(ch.Kind), metrics.SourceRemote, time.Since(ch.At))
	})
}
