package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// newCustomer creates tenant slug (host slug.test) and its cliente
// c@slug.test.
func newCustomer(t *testing.T, st *storage.Store, slug string) (*model.Tenant, *model.User) {
	t.Helper()
	tn := newTenant(t, st, slug, slug+".test")
	u := &model.User{Email: "c@" + slug + ".test", Name: "C", Roles: model.Roles{model.RoleCliente}, Active: true}
	testdb.Must(t, st.CreateUser(context.Background(), tn.ID, u), "user")
	return tn, u
}

// newPortalSession creates portal session id for u, opened by token,
// expiring after ttl (negative: already expired).
func newPortalSession(t *testing.T, st *storage.Store, tn *model.Tenant, u *model.User, id, token, locale string, ttl time.Duration) *model.PortalSession {
	t.Helper()
	ps := &model.PortalSession{ID: id, APIKeyID: "k", UserID: u.ID, TokenHash: auth.HashToken(token), Locale: locale, ExpiresAt: st.Now().Add(ttl)}
	testdb.Must(t, st.CreatePortalSession(context.Background(), tn.ID, ps, model.SystemActor("test")), "create portal session %s", id)
	return ps
}

// TestPortalSessionSingleUse: an auth_url is redeemed once even when many
// browsers open it at the same moment; the winner's login exists, no loser
// created one, and ending the portal session ends that login, on both
// databases.
func TestPortalSessionSingleUse(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn, u := newCustomer(t, st, "ps")
		token := auth.NewToken()
		ps := newPortalSession(t, st, tn, u, "ps_aaaaaaaaaaaaaaaaaaaaaaaaaa", token, "es", time.Minute)

		const n = 12
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, used := 0, 0
		var winner *model.Session
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				login := &model.Session{ID: auth.HashToken(auth.NewToken()), CSRFToken: "x", CreatedAt: st.Now(), LastSeenAt: st.Now(),
					ExpiresAt: st.Now().Add(time.Hour)}
				_, got, err := st.OpenPortalSession(ctx, tn.ID, auth.HashToken(token), login, "203.0.113.1")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && got.ID == u.ID:
					wins++
					winner = login
				case errors.Is(err, storage.ErrPortalLinkUsed):
					used++
				default:
					t.Errorf("open %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 || used != n-1 {
			t.Fatalf("%d opens won, %d were told it was used; want 1 and %d", wins, used, n-1)
		}
		if winner.Locale != "es" || winner.PortalSessionID != ps.ID || winner.Role != model.RoleCliente {
			t.Errorf("the login: %+v", winner)
		}
		got, live, err := st.PortalSession(ctx, tn.ID, ps.ID)
		testdb.Must(t, err, "read")
		if !live || got.Status(st.Now(), live) != model.PortalSessionLoggedIn || got.LoginSessionID != winner.ID {
			t.Fatalf("after the open: %+v live=%v", got, live)
		}
		ended, err := st.EndPortalSession(ctx, tn.ID, ps.ID, model.SystemActor("test"))
		if err != nil || !ended {
			t.Fatalf("end: %v %v", ended, err)
		}
		if _, _, err := st.SessionUser(ctx, tn.ID, winner.ID); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("the login survived the end: %v", err)
		}
		if again, err := st.EndPortalSession(ctx, tn.ID, ps.ID, model.SystemActor("test")); err != nil || again {
			t.Errorf("ending twice: %v %v", again, err)
		}
		// Another tenant cannot see it.
		other := newTenant(t, st, "outro", "outro.test")
		if _, _, err := st.PortalSession(ctx, other.ID, ps.ID); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("another tenant read it: %v", err)
		}
	})
}

// TestPortalCodeLimitsUnderConcurrency: a burst of guesses at one login
// code compares no more than MaxPortalCodeAttempts of them, and the right
// code after the burst no longer works; a burst of requests for codes
// creates no more than MaxPortalCodesPerSession. Both limits were a read
// followed by a write, which concurrent requests on PostgreSQL all passed.
func TestPortalCodeLimitsUnderConcurrency(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn, u := newCustomer(t, st, "codes")
		token := auth.NewToken()
		ps := newPortalSession(t, st, tn, u, "ps_bbbbbbbbbbbbbbbbbbbbbbbbbb", token, "pt-BR", time.Minute)
		newLogin := func() *model.Session {
			return &model.Session{ID: auth.HashToken(auth.NewToken()), CSRFToken: "x", CreatedAt: st.Now(), LastSeenAt: st.Now(),
				ExpiresAt: st.Now().Add(time.Hour)}
		}
		// The link is used: from now on a code is the way back in.
		_, _, err := st.OpenPortalSession(ctx, tn.ID, auth.HashToken(token), newLogin(), "203.0.113.1")
		testdb.Must(t, err, "open the link")

		const burst = 24
		var wg sync.WaitGroup
		var mu sync.Mutex
		created, refused := 0, 0
		for i := range burst {
			wg.Go(func() {
				err := st.CreatePortalLoginCode(ctx, tn.ID, ps.ID, auth.HashToken(fmt.Sprint("code-", i)), time.Minute)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					created++
				case errors.Is(err, storage.ErrTooManyCodes):
					refused++
				default:
					t.Errorf("code %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if created != storage.MaxPortalCodesPerSession || refused != burst-created {
			t.Fatalf("%d codes created, %d refused; want %d and %d", created, refused, storage.MaxPortalCodesPerSession, burst-storage.MaxPortalCodesPerSession)
		}
		// Guesses: at a code of another portal session, whose link expired.
		// Expired: a code may log in.
		ps2 := newPortalSession(t, st, tn, u, "ps_cccccccccccccccccccccccccc", auth.NewToken(), "pt-BR", -time.Second)
		const code = "right-code"
		testdb.Must(t, st.CreatePortalLoginCode(ctx, tn.ID, ps2.ID, auth.HashToken(code), time.Minute), "code")
		for i := range burst {
			wg.Go(func() {
				_, err := st.LoginWithPortalCode(ctx, tn.ID, ps2.ID, auth.HashToken(fmt.Sprint("wrong-", i)), newLogin(), "")
				if !errors.Is(err, storage.ErrWrongCode) {
					t.Errorf("wrong guess %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		var attempts int
		testdb.Must(t, st.RawSQL().QueryRowContext(ctx, st.BindForTest("SELECT attempts FROM portal_login_codes WHERE portal_session_id = ?"), ps2.ID).Scan(&attempts), "read attempts")
		if attempts != storage.MaxPortalCodeAttempts {
			t.Errorf("%d concurrent wrong guesses counted %d attempts, want %d", burst, attempts, storage.MaxPortalCodeAttempts)
		}
		if _, err := st.LoginWithPortalCode(ctx, tn.ID, ps2.ID, auth.HashToken(code), newLogin(), ""); !errors.Is(err, storage.ErrWrongCode) {
			t.Errorf("the right code after %d wrong guesses: %v, want ErrWrongCode", burst, err)
		}
	})
}

// TestRevokedKeyEndsItsPortalSessions: revoking an API key ends what its
// portal sessions started: a link not yet opened can no longer be opened,
// nor one created after the revocation began (the key was checked when
// its request started), a login it opened (even one cached by this store,
// even one left live when the customer ended another login of the same
// portal session) is gone, and no one-time code logs in through it; the
// same when the key goes with the gestor who created it. Another key's
// portal session is untouched. Before, a leaked key's links and logins
// outlived its revocation by up to 12 h.
func TestRevokedKeyEndsItsPortalSessions(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn, u := newCustomer(t, st, "revoga")
		gestor := newUser(t, st, tn.ID, "g@revoga.test", model.RoleGestor)
		byGestor := model.Actor{Type: "user", ID: gestor.ID, Label: gestor.Email}
		newKey := func(hash string, a model.Actor) *model.APIKey {
			k := &model.APIKey{Name: hash, Prefix: "pk_", Hash: hash, Scopes: model.StringList{string(model.ScopePortalSessions)}}
			testdb.Must(t, st.CreateAPIKey(ctx, tn.ID, k, a), "key %s", hash)
			return k
		}
		leaked, other, gestors := newKey("leaked", model.SystemActor("test")), newKey("other", model.SystemActor("test")), newKey("gestors", byGestor)
		newLogin := func() *model.Session {
			return &model.Session{ID: auth.HashToken(auth.NewToken()), CSRFToken: "x", CreatedAt: st.Now(), LastSeenAt: st.Now(),
				ExpiresAt: st.Now().Add(time.Hour)}
		}
		n := 0
		create := func(k *model.APIKey) (token string, ps *model.PortalSession) {
			n++
			token = auth.NewToken()
			ps = &model.PortalSession{ID: fmt.Sprintf("ps_revoga%019d", n), APIKeyID: k.ID, UserID: u.ID, TokenHash: auth.HashToken(token),
				ExpiresAt: st.Now().Add(time.Hour)}
			testdb.Must(t, st.CreatePortalSession(ctx, tn.ID, ps, model.SystemActor("test")), "portal session %d", n)
			return token, ps
		}
		// open opens the link and reads its login once (so the store
		// caches it).
		open := func(token string) *model.Session {
			login := newLogin()
			_, _, err := st.OpenPortalSession(ctx, tn.ID, auth.HashToken(token), login, "203.0.113.1")
			testdb.Must(t, err, "open")
			_, _, err = st.SessionUser(ctx, tn.ID, login.ID)
			testdb.Must(t, err, "read login")
			return login
		}
		link, _ := create(leaked)
		openedToken, openedPS := create(leaked)
		openedLogin := open(openedToken)
		// A one-time code made a second login of the same portal session,
		// and the customer then left through it: the first stays live.
		testdb.Must(t, st.CreatePortalLoginCode(ctx, tn.ID, openedPS.ID, auth.HashToken("123456"), time.Minute), "code")
		codeLogin := newLogin()
		_, err := st.LoginWithPortalCode(ctx, tn.ID, openedPS.ID, auth.HashToken("123456"), codeLogin, "203.0.113.1")
		testdb.Must(t, err, "code login")
		testdb.Must(t, st.DeleteSession(ctx, tn.ID, codeLogin.ID), "leave the code login")
		testdb.Must(t, st.MarkPortalSessionLoggedOut(ctx, tn.ID, openedPS.ID), "mark it ended")
		otherToken, _ := create(other)
		otherLogin := open(otherToken)
		gestorsToken, _ := create(gestors)
		gestorsLogin := open(gestorsToken)
		gestorsLink, _ := create(gestors)

		testdb.Must(t, st.RevokeAPIKey(ctx, tn.ID, leaked.ID, model.SystemActor("test")), "revoke")
		// A request that passed the key check before the revocation
		// creates its link after it.
		late, latePS := create(leaked)
		// The gestor who made the third key leaves: it goes with them.
		_, err = st.UpdateUser(ctx, tn.ID, gestor.ID, gestor.Version, model.SystemActor("test"), func(u *model.User) error { u.Active = false; return nil })
		testdb.Must(t, err, "deactivate the gestor")

		for _, token := range []string{link, late, gestorsLink} {
			if _, _, err := st.OpenPortalSession(ctx, tn.ID, auth.HashToken(token), newLogin(), "203.0.113.1"); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("a revoked key's link: %v, want ErrNotFound", err)
			}
			if _, err := st.PortalSessionByToken(ctx, tn.ID, auth.HashToken(token)); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("a revoked key's link is still found for a code: %v", err)
			}
		}
		for _, login := range []*model.Session{openedLogin, gestorsLogin} {
			if _, _, err := st.SessionUser(ctx, tn.ID, login.ID); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("a login of a revoked key's portal session survived: %v", err)
			}
		}
		if _, _, err := st.SessionUser(ctx, tn.ID, otherLogin.ID); err != nil {
			t.Errorf("another key's login ended: %v", err)
		}
		// A code asked for before the revocation logs no one in after it.
		late2 := newLogin()
		testdb.Must(t, st.CreatePortalLoginCode(ctx, tn.ID, latePS.ID, auth.HashToken("654321"), time.Minute), "code for the late link")
		if _, err := st.LoginWithPortalCode(ctx, tn.ID, latePS.ID, auth.HashToken("654321"), late2, "203.0.113.1"); !errors.Is(err, storage.ErrWrongCode) {
			t.Errorf("a code of a revoked key's portal session: %v, want ErrWrongCode", err)
		}
		entries, err := st.AuditLog(ctx, tn.ID, model.AuditFilter{Action: model.AuditAPIKeyRevoke})
		testdb.Must(t, err, "audit")
		counts := map[string]bool{}
		for _, e := range entries {
			counts[e.TargetID] = strings.Contains(e.AfterJSON, `"logins_ended":1`)
		}
		if !counts[leaked.ID] || !counts[gestors.ID] || len(counts) != 2 {
			t.Errorf("revocations audited: %v (want both keys, each with 1 login ended)", counts)
		}
	})
}
