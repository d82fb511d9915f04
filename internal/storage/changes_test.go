package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// node is one Portico process's view of the database in these tests: a
// Store with its change listener running.
func listening(t *testing.T, st *storage.Store) {
	t.Helper()
	testdb.Listen(t, st)
}

// cachedWorld is a tenant with a user, a live session of that user, an API
// key and a plugin with configuration.
type cachedWorld struct {
	tenant  *model.Tenant
	user    *model.User
	session string
	keyHash string
	keyID   string
	plugin  *model.Plugin
	// clientID authenticates the plugin at the launch exchange, which
	// knows the user as subject.
	clientID, subject string
}

func newCachedWorld(t *testing.T, st *storage.Store, slug string) *cachedWorld {
	t.Helper()
	ctx := context.Background()
	w := &cachedWorld{tenant: newTenant(t, st, slug, slug+".test")}
	w.user = &model.User{Email: "ana@" + slug + ".test", Name: "Ana", Roles: model.Roles{model.RoleCliente, model.RoleSindico}, Active: true}
	testdb.Must(t, w.user.Validate(), "validate user")
	testdb.Must(t, st.CreateUser(ctx, w.tenant.ID, w.user), "create user")
	now := st.Now()
	w.session = "sess-" + slug
	testdb.Must(t, st.CreateSession(ctx, w.tenant.ID, &model.Session{ID: w.session, UserID: w.user.ID, CSRFToken: "c",
		Role: model.RoleCliente, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}), "create session")
	w.keyHash = "hash-" + slug
	k := &model.APIKey{Name: "erp", Prefix: "pk_", Hash: w.keyHash, Scopes: model.StringList{string(model.ScopeAdmin)}, CreatedBy: "test"}
	testdb.Must(t, st.CreateAPIKey(ctx, w.tenant.ID, k, testActor), "create key")
	w.keyID = k.ID
	w.plugin = newPlugin("boleto", 1)
	w.plugin.AuthType = model.AuthToken
	testdb.Must(t, st.CreatePlugin(ctx, w.tenant.ID, w.plugin, testActor), "create plugin")
	w.clientID = "client-" + slug
	_, err := st.RotateClientSecret(ctx, w.tenant.ID, w.plugin.Slug, storage.NewClientSecret{ClientID: w.clientID, SecretHash: "old"}, nil, testActor)
	testdb.Must(t, err, "client secret")
	w.subject, err = st.PluginSubject(ctx, w.tenant.ID, w.plugin.ID, w.user.ID)
	testdb.Must(t, err, "subject")
	return w
}

// read fills every cache with the world's rows.
func (w *cachedWorld) read(t *testing.T, st *storage.Store) {
	t.Helper()
	ctx := context.Background()
	_, _, err := st.SessionUser(ctx, w.tenant.ID, w.session)
	testdb.Must(t, err, "read session")
	_, err = st.APIKeyByHash(ctx, w.tenant.ID, w.keyHash)
	testdb.Must(t, err, "read key")
	_, err = st.PluginConfig(ctx, w.tenant.ID, w.plugin.ID)
	testdb.Must(t, err, "read config")
	_, err = st.PluginByClientID(ctx, w.tenant.ID, w.clientID)
	testdb.Must(t, err, "read plugin by client id")
	_, err = st.UserBySubject(ctx, w.tenant.ID, w.plugin.ID, w.subject)
	testdb.Must(t, err, "read user by subject")
}

// changeCase is one change a gestor or a customer makes, and how a node
// that cached the old rows sees that it took effect.
type changeCase struct {
	name   string
	change func(t *testing.T, st *storage.Store, w *cachedWorld)
	seen   func(st *storage.Store, w *cachedWorld) (bool, error)
}

func sessionGone(st *storage.Store, w *cachedWorld) (bool, error) {
	_, _, err := st.SessionUser(context.Background(), w.tenant.ID, w.session)
	if errors.Is(err, model.ErrNotFound) {
		return true, nil
	}
	return false, err
}

func changeCases() []changeCase {
	ctx := context.Background()
	userField := func(get func(*model.User) bool) func(*storage.Store, *cachedWorld) (bool, error) {
		return func(st *storage.Store, w *cachedWorld) (bool, error) {
			_, u, err := st.SessionUser(ctx, w.tenant.ID, w.session)
			if err != nil {
				return false, err
			}
			return get(u), nil
		}
	}
	return []changeCase{
		{"logout", func(t *testing.T, st *storage.Store, w *cachedWorld) {
			testdb.Must(t, st.DeleteSession(ctx, w.tenant.ID, w.session), "logout")
		}, sessionGone},
		{"every session of the user ended", func(t *testing.T, st *storage.Store, w *cachedWorld) {
			testdb.Must(t, st.DeleteUserSessions(ctx, w.tenant.ID, w.user.ID), "end sessions")
		}, sessionGone},
		{"user deactivated", func(t *testing.T, st *storage.Store, w *cachedWorld) {
			_, err := st.UpdateUser(ctx, w.tenant.ID, w.user.ID, w.user.Version, testActor, func(u *model.User) error { u.Active = false; return nil })
			testdb.Must(t, err, "deactivate")
		}, sessionGone},
		{"role removed", func(t *testing.T, st *storage.Store, w *cachedWorld) {
			_, err := st.UpdateUser(ctx, w.tenant.ID, w.user.ID, w.user.Version, testActor, func(u *model.User) error {
				u.Roles = model.Roles{model.RoleCliente}
				return nil
			})
			testdb.Must(t, err, "change roles")
		}, userField(func(u *model.User) bool { return !u.HasRole(model.RoleSindico) })},
		{"user language", func(t *testing.T, st *storage.Store, w *cachedWorld) {
			testdb.Must(t, st.SetUserLocale(ctx, w.tenant.ID, w.user.ID, "es"), "set locale")
		}, userField(func(u *model.User) bool { return u.Locale == "es" })},
		{"session role", func(t *testing.T, st *storage.Store, w *cachedWorld) {
			testdb.Must(t, st.SetSessionRole(ctx, w.tenant.ID, w.session, model.RoleSindico), "set role")
		}, func(st *storage.Store, w *cachedWorld) (bool, error) {
			s, _, err := st.SessionUser(ctx, w.tenant.ID, w.session)
			return err == nil && s.Role == model.RoleSindico, err
		}},
		{"user deactivated, as the launch exchange sees it", func(t *testing.T, st *storage.Store, w *cachedWorld) {
			_, err := st.UpdateUser(ctx, w.tenant.ID, w.user.ID, w.user.Version, testActor, func(u *model.User) error { u.Active = false; return nil })
			testdb.Must(t, err, "deactivate")
		}, func(st *storage.Store, w *cachedWorld) (bool, error) {
			u, err := st.UserBySubject(ctx, w.tenant.ID, w.plugin.ID, w.subject)
			return err == nil && !u.Active, err
		}},
		{"client secret rotated", func(t *testing.T, st *storage.Store, w *cachedWorld) {
			_, err := st.RotateClientSecret(ctx, w.tenant.ID, w.plugin.Slug, storage.NewClientSecret{SecretHash: "new"}, nil, testActor)
			testdb.Must(t, err, "rotate")
		}, func(st *storage.Store, w *cachedWorld) (bool, error) {
			p, err := st.PluginByClientID(ctx, w.tenant.ID, w.clientID)
			return err == nil && p.ClientSecretMatches("new", time.Now()) && !p.ClientSecretMatches("old", time.Now()), err
		}},
		{"api key revoked", func(t *testing.T, st *storage.Store, w *cachedWorld) {
			testdb.Must(t, st.RevokeAPIKey(ctx, w.tenant.ID, w.keyID, testActor), "revoke")
		}, func(st *storage.Store, w *cachedWorld) (bool, error) {
			_, err := st.APIKeyByHash(ctx, w.tenant.ID, w.keyHash)
			if errors.Is(err, model.ErrNotFound) {
				return true, nil
			}
			return false, err
		}},
		{"plugin configuration", func(t *testing.T, st *storage.Store, w *cachedWorld) {
			p, err := st.PluginBySlug(ctx, w.tenant.ID, w.plugin.Slug)
			testdb.Must(t, err, "plugin")
			testdb.Must(t, st.ReplacePluginConfig(ctx, w.tenant.ID, p.Slug, p.Version,
				[]model.ConfigValue{{Key: "banco", Type: model.ConfigString, Value: "itau"}}, testActor), "config")
		}, func(st *storage.Store, w *cachedWorld) (bool, error) {
			cfg, err := st.PluginConfig(ctx, w.tenant.ID, w.plugin.ID)
			return err == nil && len(cfg) == 1 && cfg[0].Value == "itau", err
		}},
	}
}

// TestChangesTakeEffectAtOnceInTheWritingProcess: each change, made through
// the store that cached the old rows, is seen by its very next read.
func TestChangesTakeEffectAtOnceInTheWritingProcess(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		listening(t, st)
		for i, c := range changeCases() {
			w := newCachedWorld(t, st, fmt.Sprintf("local%d", i))
			w.read(t, st)
			c.change(t, st, w)
			ok, err := c.seen(st, w)
			if err != nil || !ok {
				t.Errorf("%s: not seen at once (%v)", c.name, err)
			}
		}
	})
}

// TestCachesServeWhileCoherent shows that the caches are really used (a
// row changed behind the store's back, with no announcement, is not seen
// until the TTL), and only while the store is coherent.
func TestCachesServeWhileCoherent(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		w := newCachedWorld(t, st, "coherent")
		raw := st.RawSQL()
		// PostgreSQL without its listener: nothing is cached.
		if st.Driver() == "postgres" {
			if st.Coherent() {
				t.Fatal("coherent before the listener connected")
			}
			w.read(t, st)
			_, err := raw.ExecContext(ctx, "UPDATE users SET name = 'Silent' WHERE id = $1", w.user.ID)
			testdb.Must(t, err, "silent update")
			_, u, err := st.SessionUser(ctx, w.tenant.ID, w.session)
			if err != nil || u.Name != "Silent" {
				t.Fatalf("without a listener the store served a cached user: %+v %v", u, err)
			}
			listening(t, st)
		}
		w.read(t, st)
		q := "UPDATE users SET name = 'Hidden' WHERE id = ?"
		if st.Driver() == "postgres" {
			q = strings.Replace(q, "?", "$1", 1)
		}
		_, err := raw.ExecContext(ctx, q, w.user.ID)
		testdb.Must(t, err, "silent update")
		_, u, err := st.SessionUser(ctx, w.tenant.ID, w.session)
		if err != nil || u.Name == "Hidden" {
			t.Fatalf("the session's user was not cached: %+v %v", u, err)
		}
	})
}

// TestCrossNodeInvalidation: two stores on one PostgreSQL database, each
// with its listener, play two nodes. Node B caches; every change made
// through node A is seen by B within 1 s (p99 over 200 changes).
func TestCrossNodeInvalidation(t *testing.T) {
	url := testdb.URL(t, "postgres")
	a, b := testdb.OpenURL(t, url), testdb.OpenURL(t, url)
	listening(t, a)
	listening(t, b)
	cases := changeCases()
	const rounds = 200
	lags := make([]time.Duration, 0, rounds)
	for i := range rounds {
		c := cases[i%len(cases)]
		w := newCachedWorld(t, a, fmt.Sprintf("n%d", i))
		w.read(t, b)
		if ok, err := c.seen(b, w); err != nil || ok {
			t.Fatalf("%s: seen before the change (%v, %v)", c.name, ok, err)
		}
		start := time.Now()
		c.change(t, a, w)
		for {
			ok, err := c.seen(b, w)
			if err != nil {
				t.Fatalf("%s on B: %v", c.name, err)
			}
			if ok {
				break
			}
			if time.Since(start) > 3*time.Second {
				t.Fatalf("%s: node B still serves the old rows after 3 s", c.name)
			}
			time.Sleep(time.Millisecond)
		}
		lags = append(lags, time.Since(start))
	}
	slices.Sort(lags)
	p50, p99 := lags[len(lags)/2], lags[len(lags)*99/100]
	t.Logf("change on A → seen on B, %d changes: p50 %v, p99 %v, max %v", rounds, p50, p99, lags[len(lags)-1])
	if p99 > time.Second {
		t.Errorf("p99 %v > 1 s", p99)
	}
}

// listenRecording starts b's listener (reconnecting after delay, 0 for
// the default) and returns the listener states it reported so far.
func listenRecording(t *testing.T, b *storage.Store, delay time.Duration) func() []bool {
	t.Helper()
	var mu sync.Mutex
	var states []bool
	testdb.ListenWith(t, b, storage.ListenOptions{ReconnectDelay: delay, OnState: func(up bool) {
		mu.Lock()
		states = append(states, up)
		mu.Unlock()
	}})
	return func() []bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(states)
	}
}

// TestListenerReconnectFlushes kills node B's listener connection: B stops
// serving from its caches at once, reconnects by itself, and a change made
// while it was away (whose notification it never heard) is not served
// stale afterwards.
func TestListenerReconnectFlushes(t *testing.T) {
	url := testdb.URL(t, "postgres")
	a, b := testdb.OpenURL(t, url), testdb.OpenURL(t, url)
	ctx := context.Background()
	states := listenRecording(t, b, 200*time.Millisecond)
	w := newCachedWorld(t, a, "flush")
	w.read(t, b)
	raw := a.RawSQL()
	// Hold the listener down: kill its backend and keep killing it until
	// the change is made, so B cannot hear the notification.
	kill := func() int {
		var n int
		err := raw.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1`, b.ListenerName()).Scan(&n)
		testdb.Must(t, err, "terminate listener")
		return n
	}
	if kill() != 1 {
		t.Fatal("no listener backend to kill")
	}
	deadline := time.Now().Add(3 * time.Second)
	for b.Coherent() {
		if time.Now().After(deadline) {
			t.Fatal("B still coherent 3 s after its listener was killed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// While B is incoherent it reads through: a silent change is seen.
	_, err := raw.ExecContext(ctx, "UPDATE users SET name = 'Durante' WHERE id = $1", w.user.ID)
	testdb.Must(t, err, "update")
	if _, u, err := b.SessionUser(ctx, w.tenant.ID, w.session); err != nil || u.Name != "Durante" {
		t.Fatalf("B served a cached user while its listener was down: %+v %v", u, err)
	}
	// A logs the session out while B is (probably) still away; B must not
	// serve it once it is back.
	testdb.Must(t, a.DeleteSession(ctx, w.tenant.ID, w.session), "logout on A")
	deadline = time.Now().Add(5 * time.Second)
	for !b.Coherent() {
		if time.Now().After(deadline) {
			t.Fatal("B's listener did not reconnect within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if gone, err := sessionGone(b, w); err != nil || !gone {
		t.Fatalf("B serves a session logged out while its listener was away (%v)", err)
	}
	if got := states(); !slices.Equal(got, []bool{true, false, true}) {
		t.Errorf("listener states %v, want up, down, up", got)
	}
}

// TestListenerSurvivesUnreadableNotification: a notification on the
// channel that this node cannot read (a newer node's kind of change, or
// anyone's pg_notify) flushes the caches, since some change happened, but
// the listener stays up and the node keeps serving from its caches: it is
// still coherent, and a change announced afterwards is still heard.
func TestListenerSurvivesUnreadableNotification(t *testing.T) {
	url := testdb.URL(t, "postgres")
	a, b := testdb.OpenURL(t, url), testdb.OpenURL(t, url)
	ctx := context.Background()
	states := listenRecording(t, b, 0)
	w := newCachedWorld(t, a, "junk")
	w.read(t, b)
	raw := a.RawSQL()
	// A silent change, which B's cache hides until something flushes it.
	_, err := raw.ExecContext(ctx, "UPDATE users SET name = 'Silenciosa' WHERE id = $1", w.user.ID)
	testdb.Must(t, err, "silent update")
	_, err = raw.ExecContext(ctx, "SELECT pg_notify($1, $2)", storage.ChangesChannel, `{"k":"novidade","t":"x"}`)
	testdb.Must(t, err, "notify")
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, u, err := b.SessionUser(ctx, w.tenant.ID, w.session)
		testdb.Must(t, err, "read session on B")
		if u.Name == "Silenciosa" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B's caches were not flushed by the unreadable notification within 3 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // room for a wrong "down"
	if !b.Coherent() {
		t.Fatal("B stopped using its caches after one unreadable notification")
	}
	// The listener still hears a real change.
	testdb.Must(t, a.DeleteSession(ctx, w.tenant.ID, w.session), "logout on A")
	deadline = time.Now().Add(3 * time.Second)
	for {
		gone, err := sessionGone(b, w)
		testdb.Must(t, err, "read session on B")
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B did not hear a logout after the unreadable notification")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := states(); !slices.Equal(got, []bool{true}) {
		t.Errorf("listener states %v, want only up", got)
	}
}

func TestParseChangeRejectsForeignPayloads(t *testing.T) {
	for _, tc := range []struct {
		payload string
		ok      bool
	}{
		{`{"k":"user","t":"t1","id":"u1","n":"node","at":1}`, true},
		{`{"k":"tenant","t":"t1","n":"node","at":1}`, true},
		{`{"k":"all","t":"t1","n":"node"}`, false},
		{`{"k":"drop","t":"t1"}`, false},
		{`{"k":"user","t":"t1"}`, false},
		{`{"k":"tenant","t":""}`, false},
		{`not json`, false},
		{`{"k":"tenant","t":"` + strings.Repeat("x", 2000) + `"}`, false},
	} {
		_, err := storage.ParseChange(tc.payload)
		if (err == nil) != tc.ok {
			t.Errorf("ParseChange(%.40q) error = %v, want ok=%v", tc.payload, err, tc.ok)
		}
	}
}

func FuzzParseChange(f *testing.F) {
	f.Add(`{"k":"user","t":"t1","id":"u1","n":"node","at":1}`)
	f.Add(`{"k":"apikeys","t":"t"}`)
	f.Fuzz(func(t *testing.T, payload string) {
		ch, err := storage.ParseChange(payload)
		if err != nil {
			return
		}
		known := []storage.ChangeKind{storage.ChangeTenant, storage.ChangeUser, storage.ChangeSession, storage.ChangeAPIKeys}
		if !slices.Contains(known, ch.Kind) || ch.TenantID == "" || len(ch.TenantID) > 64 || len(ch.ID) > 128 {
			t.Fatalf("accepted %+v", ch)
		}
	})
}

// TestSessionBurstsShareWork: the requests of one busy login that miss the
// cache together, or find its last_seen_at stale together, do not each
// take the row, and a logout is still never served to a request that
// starts after it.
func TestSessionBurstsShareWork(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		listening(t, st)
		w := newCachedWorld(t, st, "burst")
		w.read(t, st)

		// 32 touches at once: none fails, and afterwards both the row and
		// the cached copy (read without a round trip) are slid forward.
		seen := st.Now().Add(2 * time.Minute).UTC().Truncate(time.Millisecond)
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for range 32 {
			wg.Go(func() { errs <- st.TouchSession(ctx, w.tenant.ID, w.session, seen, seen.Add(time.Hour)) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			testdb.Must(t, err, "touch")
		}
		var stored time.Time
		sql := func(q string) string {
			if st.Driver() == "postgres" {
				return strings.Replace(q, "?", "$1", 1)
			}
			return q
		}
		testdb.Must(t, st.RawSQL().QueryRowContext(ctx, sql("SELECT last_seen_at FROM sessions WHERE id = ?"), w.session).Scan(&stored), "read last_seen_at")
		if !stored.Equal(seen) {
			t.Fatalf("stored last_seen_at = %v, want %v", stored, seen)
		}
		// The cached copy was moved forward, not dropped: a role changed
		// behind the store's back is not seen, the new last_seen_at is.
		_, err := st.RawSQL().ExecContext(ctx, sql("UPDATE sessions SET role = 'sindico' WHERE id = ?"), w.session)
		testdb.Must(t, err, "silent update")
		s, _, err := st.SessionUser(ctx, w.tenant.ID, w.session)
		testdb.Must(t, err, "session after the touches")
		if !s.LastSeenAt.Equal(seen) || s.Role != model.RoleCliente {
			t.Fatalf("after the touches SessionUser = last_seen_at %v, role %s; want %v from the cache, role cliente", s.LastSeenAt, s.Role, seen)
		}

		// Readers that miss together, racing a logout: a read that begins
		// after DeleteSession returned never sees the session.
		for i := range 20 {
			id := fmt.Sprintf("burst-%d", i)
			now := st.Now()
			testdb.Must(t, st.CreateSession(ctx, w.tenant.ID, &model.Session{ID: id, UserID: w.user.ID, CSRFToken: "c",
				Role: model.RoleCliente, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}), "create session")
			var gone atomic.Bool
			var readers sync.WaitGroup
			for range 8 {
				readers.Go(func() {
					for range 50 {
						after := gone.Load()
						_, _, err := st.SessionUser(ctx, w.tenant.ID, id)
						if after && err == nil {
							t.Errorf("session %s served to a read that began after its logout", id)
							return
						}
						if err != nil && !errors.Is(err, model.ErrNotFound) {
							t.Errorf("read %s: %v", id, err)
							return
						}
					}
				})
			}
			testdb.Must(t, st.DeleteSession(ctx, w.tenant.ID, id), "logout")
			gone.Store(true)
			readers.Wait()
		}
	})
}
