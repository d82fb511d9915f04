package server

import (
	"context"

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
