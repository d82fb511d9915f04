package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestConsumeJTIExactlyOnceAcrossProcesses opens two stores (two
// connection pools, as two Portico processes would have) on one database
// of each driver and races 100 consumptions of one jti through both:
// exactly one wins. Another tenant's identical jti is independent.
func TestConsumeJTIExactlyOnceAcrossProcesses(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := testdb.URL(t, d)
			var stores []*storage.Store
			for i := 0; i < 2; i++ {
				st, err := storage.Open(ctx, url, storage.Options{Logger: testdb.Logger(t)})
				testdb.Must(t, err, "open store %d", i)
				t.Cleanup(func() { _ = st.Close() })
				stores = append(stores, st)
			}
			testdb.Must(t, stores[0].Migrate(ctx), "migrate")
			a := newTenant(t, stores[0], "jti-a", "a.jti.test")
			b := newTenant(t, stores[0], "jti-b", "b.jti.test")
			exp := time.Now().Add(time.Minute)

			var wins, errs atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := 0; i < 100; i++ {
				wg.Add(1)
				go func(st *storage.Store) {
					defer wg.Done()
					<-start
					ok, err := st.ConsumeJTI(ctx, a.ID, "the-jti", exp)
					if err != nil {
						errs.Add(1)
						t.Errorf("consume: %v", err)
					}
					if ok {
						wins.Add(1)
					}
				}(stores[i%2])
			}
			close(start)
			wg.Wait()
			if wins.Load() != 1 || errs.Load() != 0 {
				t.Fatalf("%d of 100 concurrent consumptions won (%d errors); want exactly 1", wins.Load(), errs.Load())
			}
			ok, err := stores[1].ConsumeJTI(ctx, b.ID, "the-jti", exp)
			if err != nil || !ok {
				t.Fatalf("another tenant's same jti: ok=%v err=%v, want a first use", ok, err)
			}
		})
	}
}

// TestConsumeJTICombined races, through one store, two consumptions of
// each of many token ids of two tenants at once, so that they are written
// in combined inserts: each (tenant, jti) is won exactly once, the same id
// of the other tenant is independent, and every id is used afterwards.
func TestConsumeJTICombined(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "jtc-a", "a.jtc.test")
		b := newTenant(t, st, "jtc-b", "b.jtc.test")
		exp := time.Now().Add(time.Minute)
		const ids = 60
		for round := 0; st.JTIBatchesForTest() == 0; round++ {
			if round == 5 {
				t.Fatal("5 rounds of concurrent consumptions and never a combined insert")
			}
			var wins [2][ids]atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 2 * 2 * ids {
				tn, id := i%2, (i/2)%ids
				tenant := []string{a.ID, b.ID}[tn]
				wg.Go(func() {
					<-start
					ok, err := st.ConsumeJTI(ctx, tenant, fmt.Sprintf("r%d-jti-%d", round, id), exp)
					if err != nil {
						t.Errorf("consume: %v", err)
					}
					if ok {
						wins[tn][id].Add(1)
					}
				})
			}
			close(start)
			wg.Wait()
			for tn := range 2 {
				for id := range ids {
					if n := wins[tn][id].Load(); n != 1 {
						t.Fatalf("round %d: tenant %d jti %d won %d times, want 1", round, tn, id, n)
					}
					ok, err := st.ConsumeJTI(ctx, []string{a.ID, b.ID}[tn], fmt.Sprintf("r%d-jti-%d", round, id), exp)
					if err != nil || ok {
						t.Fatalf("round %d: tenant %d jti %d again: ok=%v err=%v, want used", round, tn, id, ok, err)
					}
				}
			}
		}
	})
}

// TestSweepJTIs deletes only rows whose expiry passed, so a swept jti is
// one whose token can no longer pass its exp check.
func TestSweepJTIs(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn := newTenant(t, st, "sweep", "sweep.test")
		now := time.Now()
		for i, exp := range []time.Time{now.Add(-time.Hour), now.Add(-2 * time.Second), now.Add(time.Minute)} {
			ok, err := st.ConsumeJTI(ctx, tn.ID, string(rune('a'+i)), exp)
			if err != nil || !ok {
				t.Fatalf("consume %d: %v %v", i, ok, err)
			}
		}
		n, err := st.DeleteExpiredJTIs(ctx, now)
		if err != nil || n != 2 {
			t.Fatalf("swept %d (%v), want 2", n, err)
		}
		// The live one is still consumed; the swept ones could be inserted
		// again (their tokens are expired, so the exchange never gets there).
		if ok, _ := st.ConsumeJTI(ctx, tn.ID, "c", now.Add(time.Minute)); ok {
			t.Errorf("live jti was swept")
		}
		if ok, _ := st.ConsumeJTI(ctx, tn.ID, "a", now.Add(time.Minute)); !ok {
			t.Errorf("expired jti was not swept")
		}
	})
}

// TestSigningKeysScopedOrderedAndAudited covers create (audited only with
// an actor), listing in activation order, tenant scoping and wiping.
func TestSigningKeysScopedOrderedAndAudited(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "keys-a", "a.keys.test")
		b := newTenant(t, st, "keys-b", "b.keys.test")
		now := time.Now().UTC().Truncate(time.Millisecond)
		mk := func(kid string, act time.Time) *storage.SigningKey {
			return &storage.SigningKey{KID: kid, Algorithm: "EdDSA", PublicKey: make([]byte, 32), PrivateKeySealed: []byte("sealed-" + kid), ActivatesAt: act}
		}
		testdb.Must(t, st.CreateSigningKey(ctx, a.ID, mk("k2", now.Add(time.Hour)), &model.Actor{Type: "user", ID: "u1", Label: "g@x.test"}), "k2")
		testdb.Must(t, st.CreateSigningKey(ctx, a.ID, mk("k1", now), nil), "k1")
		testdb.Must(t, st.CreateSigningKey(ctx, b.ID, mk("k1", now), nil), "same kid in another tenant")
		if err := st.CreateSigningKey(ctx, a.ID, mk("k1", now), nil); !errors.Is(err, model.ErrConflict) {
			t.Errorf("duplicate kid in one tenant: %v, want conflict", err)
		}
		ks, err := st.SigningKeys(ctx, a.ID)
		testdb.Must(t, err, "list")
		if len(ks) != 2 || ks[0].KID != "k1" || ks[1].KID != "k2" || !ks[1].ActivatesAt.Equal(now.Add(time.Hour)) || string(ks[0].PrivateKeySealed) != "sealed-k1" {
			t.Fatalf("keys of a: %+v", ks)
		}
		audit, err := st.AuditLog(ctx, a.ID, model.AuditFilter{Action: "signing_key.rotate"})
		testdb.Must(t, err, "audit")
		if len(audit) != 1 || audit[0].TargetID != "k2" || audit[0].ActorLabel != "g@x.test" {
			t.Fatalf("audit: %+v", audit)
		}
		testdb.Must(t, st.WipeSigningKeys(ctx, a.ID, []string{"k1"}), "wipe")
		ks, _ = st.SigningKeys(ctx, a.ID)
		if len(ks[0].PrivateKeySealed) != 0 || len(ks[1].PrivateKeySealed) == 0 {
			t.Errorf("wipe touched the wrong keys: %+v", ks)
		}
		kb, _ := st.SigningKeys(ctx, b.ID)
		if len(kb) != 1 || len(kb[0].PrivateKeySealed) == 0 {
			t.Errorf("wipe in tenant a touched tenant b: %+v", kb)
		}
	})
}

// TestPluginSubjects checks the subject is stable, pairwise (distinct per
// plugin, per user and per tenant), agreed on under concurrent first use,
// and resolves back only for its own plugin and tenant.
func TestPluginSubjects(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "sub-a", "a.sub.test")
		b := newTenant(t, st, "sub-b", "b.sub.test")
		ua := &model.User{Email: "x@sub.test", Name: "X", Roles: model.Roles{model.RoleCliente}, Active: true}
		ua2 := &model.User{Email: "y@sub.test", Name: "Y", Roles: model.Roles{model.RoleCliente}, Active: true}
		ub := &model.User{Email: "x@sub.test", Name: "X in B", Roles: model.Roles{model.RoleCliente}, Active: true}
		testdb.Must(t, st.CreateUser(ctx, a.ID, ua), "ua")
		testdb.Must(t, st.CreateUser(ctx, a.ID, ua2), "ua2")
		testdb.Must(t, st.CreateUser(ctx, b.ID, ub), "ub")
		p1, p2, pb := newPlugin("um", 10), newPlugin("dois", 20), newPlugin("um", 10)
		testdb.Must(t, st.CreatePlugin(ctx, a.ID, p1, model.SystemActor("test")), "p1")
		testdb.Must(t, st.CreatePlugin(ctx, a.ID, p2, model.SystemActor("test")), "p2")
		testdb.Must(t, st.CreatePlugin(ctx, b.ID, pb, model.SystemActor("test")), "pb")

		subs := make([]string, 20)
		var wg sync.WaitGroup
		for i := range subs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := st.PluginSubject(ctx, a.ID, p1.ID, ua.ID)
				if err != nil {
					t.Errorf("subject: %v", err)
				}
				subs[i] = s
			}()
		}
		wg.Wait()
		for _, s := range subs {
			if s != subs[0] || len(s) != 22 {
				t.Fatalf("concurrent first uses disagree or wrong size: %q", subs)
			}
		}
		if again, err := st.PluginSubject(ctx, a.ID, p1.ID, ua.ID); err != nil || again != subs[0] {
			t.Errorf("same plugin, same user: %q %v, want %q again", again, err, subs[0])
		}
		other, _ := st.PluginSubject(ctx, a.ID, p2.ID, ua.ID)
		s2, _ := st.PluginSubject(ctx, a.ID, p1.ID, ua2.ID)
		sb, _ := st.PluginSubject(ctx, b.ID, pb.ID, ub.ID)
		if other == "" || other == subs[0] || s2 == subs[0] || sb == subs[0] {
			t.Errorf("subjects collide: %s (other plugin %s, other user %s, other tenant %s)", subs[0], other, s2, sb)
		}
		for _, tc := range []struct{ name, tenant, plugin, user string }{
			{"another tenant's user", b.ID, pb.ID, ua.ID},
			{"another tenant's plugin", a.ID, pb.ID, ua.ID},
		} {
			if _, err := st.PluginSubject(ctx, tc.tenant, tc.plugin, tc.user); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("%s: %v, want not found", tc.name, err)
			}
		}
		u, err := st.UserBySubject(ctx, a.ID, p1.ID, subs[0])
		if err != nil || u.ID != ua.ID {
			t.Fatalf("user by subject: %v %v", u, err)
		}
		if u, err := st.UserBySubject(ctx, a.ID, p2.ID, other); err != nil || u.ID != ua.ID {
			t.Fatalf("user by the other plugin's subject: %v %v", u, err)
		}
		if _, err := st.UserBySubject(ctx, a.ID, p2.ID, subs[0]); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("plugin um's subject resolved for plugin dois: %v", err)
		}
		if _, err := st.UserBySubject(ctx, b.ID, pb.ID, subs[0]); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("tenant a's subject resolved in tenant b: %v", err)
		}
	})
}

// TestPluginByClientID is scoped by tenant and never matches the empty id
// of plugins without credentials.
func TestPluginByClientID(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "cid-a", "a.cid.test")
		b := newTenant(t, st, "cid-b", "b.cid.test")
		p := newPlugin("com-token", 10)
		p.AuthType, p.ClientID, p.ClientSecretHash = model.AuthToken, "pc_abc", "hash"
		testdb.Must(t, st.CreatePlugin(ctx, a.ID, p, model.SystemActor("test")), "create")
		testdb.Must(t, st.CreatePlugin(ctx, a.ID, newPlugin("sem-token", 20), model.SystemActor("test")), "create")
		got, err := st.PluginByClientID(ctx, a.ID, "pc_abc")
		if err != nil || got.Slug != "com-token" {
			t.Fatalf("by client id: %v %v", got, err)
		}
		for _, tc := range []struct{ tenant, id string }{{b.ID, "pc_abc"}, {a.ID, ""}, {a.ID, "pc_other"}} {
			if _, err := st.PluginByClientID(ctx, tc.tenant, tc.id); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("tenant %s id %q: %v, want not found", tc.tenant, tc.id, err)
			}
		}
	})
}
