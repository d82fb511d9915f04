package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// forEachDriver runs fn as a parallel subtest on SQLite and PostgreSQL, each
// with its own fresh database.
func forEachDriver(t *testing.T, fn func(t *testing.T, st *storage.Store)) {
	t.Helper()
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, testdb.Open(t, d))
		})
	}
}

func newTenant(t testing.TB, st *storage.Store, slug string, hosts ...string) *model.Tenant {
	t.Helper()
	tn := &model.Tenant{Slug: slug, Name: "Tenant " + slug, Hostnames: hosts}
	testdb.Must(t, tn.Validate(false), "validate tenant")
	testdb.Must(t, st.CreateTenant(context.Background(), tn, testActor), "create tenant %s", slug)
	return tn
}

// newUser creates an active user of tenantID with roles.
func newUser(t testing.TB, st *storage.Store, tenantID, email string, roles ...model.Role) *model.User {
	t.Helper()
	u := &model.User{Email: email, Name: "Pessoa", Roles: model.Roles(roles), Active: true}
	testdb.Must(t, u.Validate(), "validate %s", email)
	testdb.Must(t, st.CreateUser(context.Background(), tenantID, u), "create %s", email)
	return u
}

func newPlugin(slug string, pos int) *model.Plugin {
	p := &model.Plugin{Slug: slug, Name: slug, Title: slug, Type: model.PluginIframe, URL: "https://apps.exemplo.com/" + slug,
		Icon: "alerta", Active: true, ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleAmbos,
		AuthType: model.AuthNone, Position: pos}
	if err := p.Validate(model.PluginRules{IconExists: icon.Exists}); err != nil {
		panic(err)
	}
	return p
}

func TestMigrateIsIdempotentAndReady(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		testdb.Must(t, st.Migrate(ctx), "second migrate")
		testdb.Must(t, st.Ready(ctx), "ready")
	})
}

func TestReadyReportsPendingMigrations(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			st, err := storage.Open(context.Background(), testdb.URL(t, d), storage.Options{Logger: testdb.Logger(t)})
			testdb.Must(t, err, "open")
			defer st.Close()
			if err := st.Ready(context.Background()); !errors.Is(err, storage.ErrSchemaOutdated) {
				t.Fatalf("unmigrated database: Ready = %v, want ErrSchemaOutdated", err)
			}
		})
	}
}

func TestTenantsAndHosts(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "alfa", "portal.alfa.com.br", "alfa.localhost")
		got, err := st.TenantByHost(ctx, "alfa.localhost")
		testdb.Must(t, err, "by host")
		if got.ID != a.ID || len(got.Hostnames) != 2 {
			t.Fatalf("TenantByHost = %+v", got)
		}
		if _, err := st.TenantByHost(ctx, "unknown.test"); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("unknown host: %v", err)
		}
		// A hostname belongs to one tenant only; the failed create leaves nothing behind.
		dup := &model.Tenant{Slug: "beta", Name: "Beta", Hostnames: []string{"portal.alfa.com.br"}}
		testdb.Must(t, dup.Validate(false), "validate")
		if err := st.CreateTenant(ctx, dup, testActor); !errors.Is(err, model.ErrConflict) {
			t.Fatalf("duplicate host: %v, want ErrConflict", err)
		}
		if _, err := st.TenantBySlug(ctx, "beta"); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("half-written tenant exists after failed create: %v", err)
		}
		n, err := st.CountTenants(ctx)
		if err != nil || n != 1 {
			t.Fatalf("CountTenants = %d, %v", n, err)
		}
	})
}

func TestUsersAreScopedAndUniquePerTenant(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "alfa", "alfa.test")
		b := newTenant(t, st, "beta", "beta.test")
		mk := func(tn *model.Tenant, email string) (*model.User, error) {
			u := &model.User{Email: email, Name: "Pessoa", Roles: model.Roles{model.RoleCliente}, Active: true}
			testdb.Must(t, u.Validate(), "validate")
			return u, st.CreateUser(ctx, tn.ID, u)
		}
		ua, err := mk(a, "Ana@Exemplo.com")
		testdb.Must(t, err, "create in a")
		if _, err := mk(a, " ana@EXEMPLO.com"); !errors.Is(err, model.ErrConflict) {
			t.Fatalf("same e-mail, other case, same tenant: %v, want ErrConflict", err)
		}
		ub, err := mk(b, "ana@exemplo.com")
		testdb.Must(t, err, "same e-mail in another tenant is another person")
		if ua.ID == ub.ID {
			t.Fatal("ids collide")
		}
		got, err := st.UserByEmail(ctx, a.ID, "ana@exemplo.com")
		if err != nil || got.ID != ua.ID {
			t.Fatalf("UserByEmail(a) = %v, %v", got, err)
		}
		if _, err := st.UserByID(ctx, b.ID, ua.ID); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("user of a read through b: %v", err)
		}
		if err := st.SetUserLocale(ctx, b.ID, ua.ID, "en"); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("user of a changed through b: %v", err)
		}
		testdb.Must(t, st.SetUserLocale(ctx, a.ID, ua.ID, "es"), "set locale")
		got, _ = st.UserByID(ctx, a.ID, ua.ID)
		if got.Locale != "es" || !got.Roles.Has(model.RoleCliente) {
			t.Fatalf("round trip: %+v", got)
		}
	})
}

func TestPluginsOrderedAndScoped(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "alfa", "alfa.test")
		b := newTenant(t, st, "beta", "beta.test")
		var changed []string
		var mu sync.Mutex
		st.OnChange(func(ch storage.Change) { mu.Lock(); changed = append(changed, ch.TenantID); mu.Unlock() })
		for _, p := range []*model.Plugin{newPlugin("zeta", 1), newPlugin("alfa", 2), newPlugin("beta", 1)} {
			testdb.Must(t, st.CreatePlugin(ctx, a.ID, p, model.SystemActor("test")), "create %s", p.Slug)
		}
		testdb.Must(t, st.CreatePlugin(ctx, b.ID, newPlugin("zeta", 0), model.SystemActor("test")), "same slug in b")
		if err := st.CreatePlugin(ctx, a.ID, newPlugin("zeta", 9), model.SystemActor("test")); !errors.Is(err, model.ErrConflict) {
			t.Fatalf("duplicate slug: %v", err)
		}
		ps, err := st.Plugins(ctx, a.ID)
		testdb.Must(t, err, "list")
		var slugs []string
		for _, p := range ps {
			slugs = append(slugs, p.Slug)
			if p.TenantID != a.ID {
				t.Fatalf("foreign plugin %+v", p)
			}
		}
		if fmt.Sprint(slugs) != "[beta zeta alfa]" {
			t.Fatalf("order = %v, want position then slug", slugs)
		}
		p, err := st.PluginBySlug(ctx, a.ID, "alfa")
		if err != nil || p.Width != 960 || p.Size != model.SizeMedio || p.VisibleTo != model.VisibleAmbos || !p.ShowInPortal || p.ShowInManager {
			t.Fatalf("round trip: %+v, %v", p, err)
		}
		if _, err := st.PluginBySlug(ctx, b.ID, "alfa"); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("plugin of a through b: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(changed) != 4 {
			t.Fatalf("OnChange fired %d times, want 4 (failed writes must not fire)", len(changed))
		}
	})
}

func TestSessionsLifecycle(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "alfa", "alfa.test")
		b := newTenant(t, st, "beta", "beta.test")
		u := &model.User{Email: "ana@exemplo.com", Name: "Ana", Roles: model.Roles{model.RoleCliente, model.RoleSindico}, Active: true}
		testdb.Must(t, u.Validate(), "validate")
		testdb.Must(t, st.CreateUser(ctx, a.ID, u), "create user")
		now := st.Now()
		mk := func(id string, expires time.Time) {
			s := &model.Session{ID: id, UserID: u.ID, CSRFToken: "c", Role: model.RoleCliente, CreatedAt: now, LastSeenAt: now, ExpiresAt: expires}
			testdb.Must(t, st.CreateSession(ctx, a.ID, s), "create session")
		}
		mk("live", now.Add(time.Hour))
		mk("dead", now.Add(-time.Second))
		s, gotU, err := st.SessionUser(ctx, a.ID, "live")
		if err != nil || gotU.ID != u.ID || s.Role != model.RoleCliente {
			t.Fatalf("SessionUser = %+v, %+v, %v", s, gotU, err)
		}
		if _, _, err := st.SessionUser(ctx, b.ID, "live"); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("session of a through b: %v", err)
		}
		if _, _, err := st.SessionUser(ctx, a.ID, "dead"); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("expired session is alive: %v", err)
		}
		// A session of an inactive user is dead, even before it is deleted.
		off := &model.User{Email: "off@exemplo.com", Name: "Off", Roles: model.Roles{model.RoleCliente}, Active: false}
		testdb.Must(t, off.Validate(), "validate")
		testdb.Must(t, st.CreateUser(ctx, a.ID, off), "create inactive user")
		testdb.Must(t, st.CreateSession(ctx, a.ID, &model.Session{ID: "off", UserID: off.ID, CSRFToken: "c", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}), "session")
		if _, _, err := st.SessionUser(ctx, a.ID, "off"); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("session of an inactive user: %v", err)
		}
		testdb.Must(t, st.SetSessionRole(ctx, a.ID, "live", model.RoleSindico), "set role")
		testdb.Must(t, st.TouchSession(ctx, a.ID, "live", now.Add(time.Minute), now.Add(2*time.Hour)), "touch")
		s, _, _ = st.SessionUser(ctx, a.ID, "live")
		if s.Role != model.RoleSindico || !s.ExpiresAt.After(now.Add(90*time.Minute)) {
			t.Fatalf("after update: %+v", s)
		}
		n, err := st.DeleteExpiredSessions(ctx)
		if err != nil || n != 1 { // "dead" only; "off" has not expired
			t.Fatalf("DeleteExpiredSessions = %d, %v; want 1", n, err)
		}
		testdb.Must(t, st.DeleteSession(ctx, b.ID, "live"), "delete through b is a no-op")
		if _, _, err := st.SessionUser(ctx, a.ID, "live"); err != nil {
			t.Fatalf("b deleted a's session: %v", err)
		}
		testdb.Must(t, st.DeleteUserSessions(ctx, a.ID, u.ID), "delete user sessions")
		if _, _, err := st.SessionUser(ctx, a.ID, "live"); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("session survived DeleteUserSessions: %v", err)
		}
	})
}

func TestConcurrentWritersDoNotFail(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "alfa", "alfa.test")
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 8; i++ {
					if err := st.CreatePlugin(ctx, a.ID, newPlugin(fmt.Sprintf("p-%d-%d", w, i), i), model.SystemActor("test")); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent write: %v", err)
		}
		ps, err := st.Plugins(ctx, a.ID)
		if err != nil || len(ps) != 64 {
			t.Fatalf("got %d plugins, %v; want 64", len(ps), err)
		}
	})
}

// TestDocumentsAreUniquePerTenant: a CPF or CNPJ belongs to one user of a
// tenant, whichever way a user is written (created, created with an audit
// entry, updated), and under concurrent creation exactly one holder wins;
// the refusal is the form error document_taken and writes nothing. Users
// without a document, and another tenant's users, are not affected.
func TestDocumentsAreUniquePerTenant(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "alfa", "alfa.test")
		b := newTenant(t, st, "beta", "beta.test")
		user := func(email, doc string) *model.User {
			u := &model.User{Email: email, Name: "Pessoa", Document: doc, Roles: model.Roles{model.RoleCliente}, Active: true}
			testdb.Must(t, u.Validate(), "validate")
			return u
		}
		taken := func(err error) bool {
			v, ok := model.AsValidation(err)
			return ok && len(v.Fields) == 1 && v.Fields[0].Field == "document" && v.Fields[0].Code == "document_taken"
		}
		const cpf = "529.982.247-25"
		first := user("ana@exemplo.com", cpf)
		testdb.Must(t, st.CreateUser(ctx, a.ID, first), "first holder")
		if err := st.CreateUser(ctx, a.ID, user("bia@exemplo.com", cpf)); !taken(err) {
			t.Errorf("second holder: %v, want document_taken", err)
		}
		if err := st.CreateUserAudited(ctx, a.ID, user("bia@exemplo.com", cpf), testActor); !taken(err) {
			t.Errorf("second holder, audited: %v, want document_taken", err)
		}
		if _, err := st.UserByEmail(ctx, a.ID, "bia@exemplo.com"); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("a refused user was written: %v", err)
		}
		testdb.Must(t, st.CreateUser(ctx, b.ID, user("ana@exemplo.com", cpf)), "the same CPF in another tenant")
		for _, e := range []string{"c1@exemplo.com", "c2@exemplo.com"} {
			testdb.Must(t, st.CreateUser(ctx, a.ID, user(e, "")), "a user without a document")
		}

		// An update that takes a held document is refused and changes nothing.
		other := user("caio@exemplo.com", "111.444.777-35")
		testdb.Must(t, st.CreateUser(ctx, a.ID, other), "other")
		_, err := st.UpdateUser(ctx, a.ID, other.ID, other.Version, testActor, func(u *model.User) error {
			u.Document, u.Name = "52998224725", "Caio Novo"
			return nil
		})
		if !taken(err) {
			t.Errorf("update to a held CPF: %v, want document_taken", err)
		}
		if got, _ := st.UserByID(ctx, a.ID, other.ID); got.Document != "11144477735" || got.Name != "Pessoa" || got.Version != other.Version {
			t.Errorf("after the refused update: %+v", got)
		}

		// Eight concurrent creations of one new CPF: exactly one holder.
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = st.CreateUserAudited(ctx, a.ID, user(fmt.Sprintf("d%d@exemplo.com", i), "123.456.789-09"), testActor)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !taken(err):
				t.Errorf("a concurrent creation failed otherwise: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d concurrent creations of one CPF succeeded, want 1", won)
		}
	})
}

// TestReadyChecksAreShared holds the schema's version table locked, so
// that a readiness check waits on it, and sends 20 checks at once: they
// must wait on one database backend between them, not one each (a flood
// of unauthenticated /readyz probes would otherwise take the pool), and
// all answer ready once the lock is gone.
func TestReadyChecksAreShared(t *testing.T) {
	st := testdb.Open(t, "postgres")
	ctx := context.Background()
	raw := st.RawSQL()
	tx, err := raw.BeginTx(ctx, nil)
	testdb.Must(t, err, "begin")
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, "LOCK TABLE goose_db_version IN ACCESS EXCLUSIVE MODE")
	testdb.Must(t, err, "lock the version table")
	const checks = 20
	errs := make(chan error, checks)
	for range checks {
		go func() {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			errs <- st.Ready(cctx)
		}()
	}
	waiting := func() int {
		var n int
		err := raw.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		testdb.Must(t, err, "count waiting backends")
		return n
	}
	deadline := time.Now().Add(2 * time.Second)
	for waiting() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no readiness check reached the locked table within 2 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // give the other checks time to queue up, were they separate
	if n := waiting(); n != 1 {
		t.Errorf("%d backends wait for the version table; want the 20 checks to share 1", n)
	}
	testdb.Must(t, tx.Rollback(), "release the lock")
	for range checks {
		if err := <-errs; err != nil {
			t.Errorf("ready after the lock was released: %v", err)
		}
	}
}
