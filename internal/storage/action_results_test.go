package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestActionResults: a result is read back by its session only, within its
// time; a session keeps its newest ActionResultsPerSession; the sweep and
// the end of the session remove them.
func TestActionResults(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var clock atomic.Int64
			clock.Store(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC).UnixNano())
			st := testdb.OpenWith(t, d, storage.Options{Now: func() time.Time { return time.Unix(0, clock.Load()) }})
			advance := func(d time.Duration) { clock.Add(int64(d)) }

			a := newTenant(t, st, "alfa", "alfa.test")
			b := newTenant(t, st, "beta", "beta.test")
			u := &model.User{Email: "ana@exemplo.com", Name: "Ana", Roles: model.Roles{model.RoleCliente}, Active: true}
			testdb.Must(t, u.Validate(), "validate")
			testdb.Must(t, st.CreateUser(ctx, a.ID, u), "create user")
			pl := newPlugin("boleto", 1)
			testdb.Must(t, st.CreatePlugin(ctx, a.ID, pl, testActor), "create plugin")
			now := st.Now()
			for _, id := range []string{"s1", "s2"} {
				testdb.Must(t, st.CreateSession(ctx, a.ID, &model.Session{ID: id, UserID: u.ID, CSRFToken: "c", CreatedAt: now, LastSeenAt: now,
					ExpiresAt: now.Add(24 * time.Hour)}), "session %s", id)
			}
			save := func(session, body string) *model.ActionResult {
				r := &model.ActionResult{TenantID: a.ID, SessionID: session, PluginID: pl.ID, Status: 200, Body: body}
				testdb.Must(t, st.SaveActionResult(ctx, r), "save")
				advance(time.Second)
				return r
			}
			first := save("s1", `{"n":1}`)
			if len(first.ID) < 26 || !first.ExpiresAt.Equal(first.CreatedAt.Add(model.ActionResultTTL)) {
				t.Fatalf("saved %+v", first)
			}
			got, err := st.ActionResult(ctx, a.ID, "s1", first.ID)
			if err != nil || got.Body != `{"n":1}` || got.Status != 200 || got.PluginID != pl.ID {
				t.Fatalf("ActionResult = %+v, %v", got, err)
			}
			for _, tc := range []struct{ name, tenant, session string }{
				{"another session", a.ID, "s2"},
				{"another tenant", b.ID, "s1"},
			} {
				if _, err := st.ActionResult(ctx, tc.tenant, tc.session, first.ID); !errors.Is(err, model.ErrNotFound) {
					t.Errorf("%s read the result: %v", tc.name, err)
				}
			}

			// The newest ActionResultsPerSession stay; s2's are untouched.
			other := save("s2", `{"s2":true}`)
			var all []*model.ActionResult
			for i := range model.ActionResultsPerSession {
				all = append(all, save("s1", fmt.Sprintf(`{"n":%d}`, i+2)))
			}
			if _, err := st.ActionResult(ctx, a.ID, "s1", first.ID); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("the oldest result outlived %d newer ones: %v", model.ActionResultsPerSession, err)
			}
			for _, r := range append(all, other) {
				if _, err := st.ActionResult(ctx, a.ID, r.SessionID, r.ID); err != nil {
					t.Errorf("result %s of %s is gone: %v", r.Body, r.SessionID, err)
				}
			}

			// Past its time it cannot be read, and the sweep deletes it.
			advance(model.ActionResultTTL)
			if _, err := st.ActionResult(ctx, a.ID, "s2", other.ID); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("an expired result was read: %v", err)
			}
			fresh := save("s2", `{"fresh":true}`)
			if _, err := st.DeleteExpiredSessions(ctx); err != nil {
				t.Fatal(err)
			}
			left, err := st.CountActionResultsForTest(ctx)
			testdb.Must(t, err, "count")
			if left != 1 {
				t.Errorf("%d results left after the sweep, want 1 (the fresh one)", left)
			}
			// A session's results end with it.
			testdb.Must(t, st.DeleteSession(ctx, a.ID, "s2"), "delete session")
			if _, err := st.ActionResult(ctx, a.ID, "s2", fresh.ID); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("a result outlived its session: %v", err)
			}
		})
	}
}
