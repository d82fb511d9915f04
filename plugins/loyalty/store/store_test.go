package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/loyalty/points"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// clock is a movable clock for expiry tests.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

func open(t *testing.T, driver string) (*store.Store, *clock) {
	t.Helper()
	c := &clock{}
	st, err := store.Open(context.Background(), testdb.URL(t, driver), store.Options{Logger: testdb.Logger(t), Now: c.now})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, c
}

func forEachDriver(t *testing.T, f func(t *testing.T, st *store.Store, c *clock)) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			st, c := open(t, d)
			f(t, st, c)
		})
	}
}

func customer(t *testing.T, st *store.Store, email string) *store.Customer {
	t.Helper()
	c := &store.Customer{Name: "Cliente " + email, Email: email}
	testdb.Must(t, st.CreateCustomer(context.Background(), c), "create customer")
	return c
}

// TestRedemptionsNeverOverdraw: 100 concurrent redemptions of 10 points
// against 500 — exactly 50 succeed, the rest are refused, the balance ends
// at 0 and equals the ledger, on both databases.
func TestRedemptionsNeverOverdraw(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, _ *clock) {
		ctx := context.Background()
		c := customer(t, st, "a@x.test")
		_, err := st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: 500, Actor: "test"})
		testdb.Must(t, err, "earn")
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := st.Spend(ctx, store.KindRedeem, store.Movement{CustomerID: c.ID, Points: 10, Actor: "test"})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, store.ErrInsufficient):
					refused.Add(1)
				default:
					t.Errorf("spend: %v", err)
				}
			}()
		}
		wg.Wait()
		bal, err := st.Balance(ctx, c.ID)
		testdb.Must(t, err, "balance")
		sum, err := st.LedgerSum(ctx, c.ID)
		testdb.Must(t, err, "ledger sum")
		if ok.Load() != 50 || refused.Load() != 50 || bal != 0 || sum != 0 {
			t.Fatalf("%d succeeded, %d refused, balance %d, ledger %d; want 50, 50, 0, 0", ok.Load(), refused.Load(), bal, sum)
		}
	})
}

// TestRandomWorkloadKeepsTheLedger: a random concurrent mix of earns,
// redemptions and adjustments over a few customers, with retries of
// failed calls; afterwards every balance equals its ledger and none is
// negative.
func TestRandomWorkloadKeepsTheLedger(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, clk *clock) {
		ctx := context.Background()
		var cs []*store.Customer
		for i := range 4 {
			cs = append(cs, customer(t, st, string(rune('a'+i))+"@w.test"))
		}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), 7))
				for range 40 {
					c := cs[r.IntN(len(cs))]
					n := int64(1 + r.IntN(50))
					var err error
					for attempt := 0; attempt < 3; attempt++ {
						switch r.IntN(4) {
						case 0, 1:
							exp := clk.now().Add(time.Duration(r.IntN(3)) * time.Hour)
							_, err = st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: n, ExpiresAt: &exp})
						case 2:
							_, err = st.Spend(ctx, store.KindRedeem, store.Movement{CustomerID: c.ID, Points: n})
						default:
							_, err = st.Spend(ctx, store.KindAdjust, store.Movement{CustomerID: c.ID, Points: n, Reason: "correção"})
						}
						if err == nil || errors.Is(err, store.ErrInsufficient) {
							break
						}
					}
					if err != nil && !errors.Is(err, store.ErrInsufficient) {
						t.Errorf("movement: %v", err)
					}
				}
			}()
		}
		// Expiry runs while the workload does.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				clk.advance(30 * time.Minute)
				if _, err := st.ExpireDue(ctx, clk.now()); err != nil {
					t.Errorf("expire: %v", err)
				}
			}
		}()
		wg.Wait()
		for _, c := range cs {
			bal, err := st.Balance(ctx, c.ID)
			testdb.Must(t, err, "balance")
			sum, err := st.LedgerSum(ctx, c.ID)
			testdb.Must(t, err, "sum")
			if bal < 0 || bal != sum {
				t.Errorf("customer %s: balance %d, ledger %d", c.Email, bal, sum)
			}
		}
	})
}

// TestExpiryConsumesOldestFirst: redemptions take the points that expire
// first; expiry is a ledger entry of what is left of a lot, once.
func TestExpiryConsumesOldestFirst(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, clk *clock) {
		ctx := context.Background()
		c := customer(t, st, "e@x.test")
		soon, later := clk.now().Add(24*time.Hour), clk.now().Add(72*time.Hour)
		_, err := st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: 100, ExpiresAt: &later})
		testdb.Must(t, err, "earn later")
		_, err = st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: 30, ExpiresAt: &soon})
		testdb.Must(t, err, "earn soon")
		_, err = st.Earn(ctx, store.KindAdjust, store.Movement{CustomerID: c.ID, Points: 5, Reason: "bônus"})
		testdb.Must(t, err, "never expiring")
		n, first, err := st.Expiring(ctx, c.ID, clk.now().Add(48*time.Hour))
		testdb.Must(t, err, "expiring")
		if n != 30 || !first.Equal(soon.UTC().Truncate(time.Microsecond)) && first.Sub(soon) > time.Millisecond {
			t.Fatalf("expiring within 48 h: %d at %v", n, first)
		}
		// 40 redeemed: the 30 expiring tomorrow, then 10 of the later lot.
		_, err = st.Spend(ctx, store.KindRedeem, store.Movement{CustomerID: c.ID, Points: 40})
		testdb.Must(t, err, "spend")
		clk.advance(48 * time.Hour)
		expired, err := st.ExpireDue(ctx, clk.now())
		testdb.Must(t, err, "expire")
		if expired != 0 {
			t.Fatalf("expired %d points of a lot already spent", expired)
		}
		clk.advance(48 * time.Hour)
		if expired, err = st.ExpireDue(ctx, clk.now()); err != nil || expired != 90 {
			t.Fatalf("expired %d, %v; want the 90 left of the later lot", expired, err)
		}
		if again, err := st.ExpireDue(ctx, clk.now()); err != nil || again != 0 {
			t.Fatalf("expired again: %d %v", again, err)
		}
		bal, _ := st.Balance(ctx, c.ID)
		sum, _ := st.LedgerSum(ctx, c.ID)
		h, err := st.History(ctx, c.ID, "", 10)
		testdb.Must(t, err, "history")
		if bal != 5 || sum != 5 || len(h) != 5 || h[0].Kind != store.KindExpire || h[0].Points != -90 {
			t.Fatalf("balance %d, ledger %d, history %+v", bal, sum, h)
		}
	})
}

// TestLedgerIsAppendOnly: the database refuses to change or delete a
// ledger row, whoever asks.
func TestLedgerIsAppendOnly(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, _ *clock) {
		ctx := context.Background()
		c := customer(t, st, "l@x.test")
		r, err := st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: 10})
		testdb.Must(t, err, "earn")
		if err := st.DB().Exec("UPDATE ledger SET points = 1000 WHERE id = ?", r.Entry.ID).Error; err == nil {
			t.Error("the ledger accepted an update")
		}
		if err := st.DB().Exec("DELETE FROM ledger WHERE id = ?", r.Entry.ID).Error; err == nil {
			t.Error("the ledger accepted a delete")
		}
		if err := st.DB().Exec("UPDATE balances SET points = -1 WHERE customer_id = ?", c.ID).Error; err == nil {
			t.Error("a balance went negative")
		}
	})
}

// TestSourceKeyAppliesOnce: a movement with a source key (a CSV line) is
// applied once, even when two imports race.
func TestSourceKeyAppliesOnce(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, _ *clock) {
		ctx := context.Background()
		c := customer(t, st, "s@x.test")
		var ok, dup atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: 7, SourceKey: "import:abc:2"})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, store.ErrDuplicate):
					dup.Add(1)
				default:
					t.Errorf("earn: %v", err)
				}
			}()
		}
		wg.Wait()
		bal, _ := st.Balance(ctx, c.ID)
		if ok.Load() != 1 || dup.Load() != 7 || bal != 7 {
			t.Fatalf("%d applied, %d duplicates, balance %d", ok.Load(), dup.Load(), bal)
		}
	})
}

// TestIdempotencyKeys: the first claim runs, a retry gets the stored
// answer, another body under the key is refused, a key in flight is busy,
// and an abandoned key runs again.
func TestIdempotencyKeys(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, clk *clock) {
		ctx := context.Background()
		const stale = time.Minute
		h1, h2 := store.RequestHash("POST", "/x", []byte(`{"points":10}`)), store.RequestHash("POST", "/x", []byte(`{"points":11}`))
		c1, got, err := st.BeginIdempotent(ctx, "shop1", "k1", h1, stale)
		if c1 == nil || got != nil || err != nil {
			t.Fatalf("first claim: %v %v %v", c1, got, err)
		}
		if _, _, err := st.BeginIdempotent(ctx, "shop1", "k1", h1, stale); !errors.Is(err, store.ErrKeyInFlight) {
			t.Fatalf("in flight: %v", err)
		}
		testdb.Must(t, st.FinishIdempotent(ctx, c1, 201, `{"ok":true}`), "finish")
		if c, got, err := st.BeginIdempotent(ctx, "shop1", "k1", h1, stale); err != nil || c != nil || got == nil || got.Status != 201 || got.Body != `{"ok":true}` {
			t.Fatalf("retry: %v %+v %v", c, got, err)
		}
		if _, _, err := st.BeginIdempotent(ctx, "shop1", "k1", h2, stale); !errors.Is(err, store.ErrKeyReused) {
			t.Fatalf("another body: %v", err)
		}
		c2, got, err := st.BeginIdempotent(ctx, "shop2", "k1", h2, stale)
		if c2 == nil || got != nil || err != nil {
			t.Fatalf("another store's key space: %v %v %v", c2, got, err)
		}
		testdb.Must(t, st.AbandonIdempotent(ctx, c2), "abandon")
		if c, got, err := st.BeginIdempotent(ctx, "shop2", "k1", h2, stale); c == nil || got != nil || err != nil {
			t.Fatalf("after abandon: %v %v %v", c, got, err)
		}
		clk.advance(store.IdempotencyKeep + time.Minute)
		if c, got, err := st.BeginIdempotent(ctx, "shop1", "k1", h2, stale); c == nil || got != nil || err != nil {
			t.Fatalf("a key past its keep is forgotten: %v %v %v", c, got, err)
		}
	})
}

// TestIdempotencyStaleKeyTakenOver: a key left in flight (its request
// died) is busy until staleAfter has passed since its claim; then one
// retry of the same request — one only, of several at once — takes it
// over, and the dead request's claim can neither record nor release it.
// Another request under the key is still refused, and staleAfter 0 never
// takes a key over.
func TestIdempotencyStaleKeyTakenOver(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, clk *clock) {
		ctx := context.Background()
		const stale = time.Minute
		h, other := store.RequestHash("POST", "/x", []byte(`{"points":7}`)), store.RequestHash("POST", "/x", []byte(`{"points":8}`))
		dead, _, err := st.BeginIdempotent(ctx, "shop", "k", h, stale)
		testdb.Must(t, err, "claim")
		clk.advance(stale - time.Second)
		if _, _, err := st.BeginIdempotent(ctx, "shop", "k", h, stale); !errors.Is(err, store.ErrKeyInFlight) {
			t.Fatalf("before staleAfter: %v, want in flight", err)
		}
		clk.advance(2 * time.Second)
		if _, _, err := st.BeginIdempotent(ctx, "shop", "k", other, stale); !errors.Is(err, store.ErrKeyReused) {
			t.Fatalf("another request after staleAfter: %v, want reused", err)
		}
		if _, _, err := st.BeginIdempotent(ctx, "shop", "k", h, 0); !errors.Is(err, store.ErrKeyInFlight) {
			t.Fatalf("staleAfter 0: %v, want in flight", err)
		}
		var claims []*store.Claim
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, got, err := st.BeginIdempotent(ctx, "shop", "k", h, stale)
				switch {
				case c != nil && got == nil && err == nil:
					mu.Lock()
					claims = append(claims, c)
					mu.Unlock()
				case !errors.Is(err, store.ErrKeyInFlight):
					t.Errorf("retry: %v %v %v", c, got, err)
				}
			}()
		}
		wg.Wait()
		if len(claims) != 1 {
			t.Fatalf("%d retries took the stale key over, want 1", len(claims))
		}
		if err := st.FinishIdempotent(ctx, dead, 500, "late"); !errors.Is(err, store.ErrClaimLost) {
			t.Errorf("the dead claim recorded an answer: %v", err)
		}
		if err := st.AbandonIdempotent(ctx, dead); !errors.Is(err, store.ErrClaimLost) {
			t.Errorf("the dead claim released the key: %v", err)
		}
		if _, _, err := st.BeginIdempotent(ctx, "shop", "k", h, stale); !errors.Is(err, store.ErrKeyInFlight) {
			t.Fatalf("the new claim's key: %v, want in flight", err)
		}
		testdb.Must(t, st.FinishIdempotent(ctx, claims[0], 201, `{"ok":true}`), "finish")
		if _, got, err := st.BeginIdempotent(ctx, "shop", "k", h, stale); err != nil || got == nil || got.Body != `{"ok":true}` {
			t.Fatalf("after the takeover's answer: %+v %v", got, err)
		}
	})
}

// TestCustomerSourceKey: a customer created under a source key is created
// once: the same key again is ErrDuplicate (whatever else the customer
// has), also when the two creations race; CustomerBySourceKey finds it.
func TestCustomerSourceKey(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, _ *clock) {
		ctx := context.Background()
		key := "api:shop:abc:k1"
		first := &store.Customer{Name: "Dona Idempotente", SourceKey: &key}
		testdb.Must(t, st.CreateCustomer(ctx, first), "create")
		again := &store.Customer{Name: "Dona Idempotente", SourceKey: &key}
		if err := st.CreateCustomer(ctx, again); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("the same source key again: %v, want ErrDuplicate", err)
		}
		if got, err := st.CustomerBySourceKey(ctx, key); err != nil || got.ID != first.ID {
			t.Fatalf("by source key: %+v %v", got, err)
		}
		for i := range 5 {
			k := fmt.Sprintf("api:shop:abc:race%d", i)
			var made, dup atomic.Int32
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := st.CreateCustomer(ctx, &store.Customer{Name: "Corrida", Email: fmt.Sprintf("race%d@x.test", i), SourceKey: &k})
					switch {
					case err == nil:
						made.Add(1)
					case errors.Is(err, store.ErrDuplicate):
						dup.Add(1)
					default:
						t.Errorf("create: %v", err)
					}
				}()
			}
			wg.Wait()
			if made.Load() != 1 || dup.Load() != 1 {
				t.Fatalf("race %d: %d created, %d duplicates", i, made.Load(), dup.Load())
			}
		}
	})
}

func TestSettingsAndSearch(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, _ *clock) {
		ctx := context.Background()
		s, err := st.Settings(ctx)
		if err != nil || s != points.Defaults {
			t.Fatalf("defaults: %+v %v", s, err)
		}
		want := points.Settings{CentsPerPoint: 500, Rounding: points.RoundNearest, MinPurchaseCents: 1000, ExpiryDays: 365}
		testdb.Must(t, st.SaveSettings(ctx, want, "gestor"), "save")
		if got, _ := st.Settings(ctx); got != want {
			t.Fatalf("saved %+v, read %+v", want, got)
		}
		if err := st.SaveSettings(ctx, points.Settings{CentsPerPoint: 0, Rounding: points.RoundDown}, "g"); err == nil {
			t.Fatal("bad settings saved")
		}
		c := &store.Customer{Name: "Carla Cliente", Email: "carla@x.test", Document: "52998224725", Phone: "5511987654321"}
		testdb.Must(t, st.CreateCustomer(ctx, c), "create")
		if err := st.CreateCustomer(ctx, &store.Customer{Name: "Outra", Email: "carla@x.test"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a second customer with the e-mail: %v", err)
		}
		for _, q := range []string{"carla", "CARLA@X", "529.982.247-25", c.Code, " " + c.Code[3:] + " ", "11987654321"} {
			if q == " "+c.Code[3:]+" " {
				q = "pt" + c.Code[3:]
			}
			got, err := st.SearchCustomers(ctx, q, 10)
			if err != nil || len(got) != 1 || got[0].ID != c.ID {
				t.Errorf("search %q: %v %v", q, got, err)
			}
		}
		if got, _ := st.SearchCustomers(ctx, "%", 10); len(got) != 0 {
			t.Errorf("a %% matched everything: %v", got)
		}
	})
}

// TestSearchFoldsAccentsAndDocuments: a name in capitals with accents is
// found however the staff types it, an alphanumeric CNPJ with its
// punctuation, and a phone stored without the country code by +55.
func TestSearchFoldsAccentsAndDocuments(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, _ *clock) {
		ctx := context.Background()
		angela := &store.Customer{Name: "ÂNGELA  JOÃO", Email: "angela@x.test", Phone: "11987654321"}
		testdb.Must(t, st.CreateCustomer(ctx, angela), "create")
		firm := &store.Customer{Name: "Construtora Ñandú", Email: "firm@x.test", Document: "12ABC34501DE35"}
		testdb.Must(t, st.CreateCustomer(ctx, firm), "create")
		for q, want := range map[string]string{
			"ângela": angela.ID, "ÂNGELA": angela.ID, "joão": angela.ID, "JOÃO": angela.ID, "angela joao": angela.ID,
			"Angela  João": angela.ID, "+55 11 98765-4321": angela.ID,
			"nandu": firm.ID, "12.ABC.345/01DE-35": firm.ID, "12abc34501de35": firm.ID,
		} {
			got, err := st.SearchCustomers(ctx, q, 10)
			if err != nil || len(got) != 1 || got[0].ID != want {
				t.Errorf("search %q: %v %v", q, got, err)
			}
		}
	})
}

// TestSearchNamesFilledOnOpen: customers written before the search name
// existed (its column empty) get one when the store opens.
func TestSearchNamesFilledOnOpen(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			url := testdb.URL(t, d)
			st, err := store.Open(context.Background(), url, store.Options{Logger: testdb.Logger(t)})
			testdb.Must(t, err, "open")
			ctx := context.Background()
			c := &store.Customer{Name: "Érica Gonçalves", Email: "e1@x.test"}
			testdb.Must(t, st.CreateCustomer(ctx, c), "create")
			testdb.Must(t, st.DB().Exec("UPDATE customers SET search_name = ''").Error, "empty the column")
			if got, _ := st.SearchCustomers(ctx, "erica", 10); len(got) != 0 {
				t.Fatalf("found without a search name: %v", got)
			}
			testdb.Must(t, st.Close(), "close")
			st, err = store.Open(ctx, url, store.Options{Logger: testdb.Logger(t)})
			testdb.Must(t, err, "open again")
			defer st.Close()
			if got, err := st.SearchCustomers(ctx, "erica goncalves", 10); err != nil || len(got) != 1 || got[0].ID != c.ID {
				t.Fatalf("after opening again: %v %v", got, err)
			}
		})
	}
}

func TestFoldName(t *testing.T) {
	for in, want := range map[string]string{
		"ÂNGELA  JOÃO": "angela joao", "José da Conceição": "jose da conceicao", " Ñandú ": "nandu",
		"José": "jose", "": "",
	} {
		if got := store.FoldName(in); got != want {
			t.Errorf("FoldName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestConcurrentCreatesMakeOneCustomer: sixteen creations of one e-mail at
// once make one customer; the database's unique index decides.
func TestConcurrentCreatesMakeOneCustomer(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, _ *clock) {
		ctx := context.Background()
		var ok, conflict atomic.Int64
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := st.CreateCustomer(ctx, &store.Customer{Name: "Dup", Email: "dup@x.test", Document: "52998224725", Phone: string(rune('0' + i%10))})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, store.ErrConflict):
					conflict.Add(1)
				default:
					t.Errorf("create: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 || conflict.Load() != 15 {
			t.Fatalf("%d created, %d conflicts; want 1 and 15", ok.Load(), conflict.Load())
		}
	})
}

// TestLinkSubjectOnce: a record gets one portal subject. Linking it again
// for the same subject is fine; for another subject it is ErrConflict and
// changes nothing — also when the two links race, as two launches that
// found the same unlinked record do.
func TestLinkSubjectOnce(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, _ *clock) {
		ctx := context.Background()
		c := customer(t, st, "titular@x.test")
		testdb.Must(t, st.LinkSubject(ctx, c.ID, "sub-a", "Ana", "", ""), "first link")
		testdb.Must(t, st.LinkSubject(ctx, c.ID, "sub-a", "Ana Andrade", "", ""), "the same subject again")
		if err := st.LinkSubject(ctx, c.ID, "sub-b", "Bruno", "bruno@x.test", ""); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("another subject: %v, want ErrConflict", err)
		}
		got, err := st.Customer(ctx, c.ID)
		testdb.Must(t, err, "customer")
		if got.Subject == nil || *got.Subject != "sub-a" || got.Name != "Ana Andrade" || got.Email != "titular@x.test" {
			t.Fatalf("after a refused link: %+v", got)
		}

		for i := range 10 {
			c := customer(t, st, "race"+string(rune('a'+i))+"@x.test")
			var wg sync.WaitGroup
			var linked atomic.Int32
			for _, sub := range []string{"sub-x", "sub-y"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := st.LinkSubject(ctx, c.ID, sub+string(rune('a'+i)), sub, "", "")
					switch {
					case err == nil:
						linked.Add(1)
					case !errors.Is(err, store.ErrConflict):
						t.Errorf("link %s: %v", sub, err)
					}
				}()
			}
			wg.Wait()
			if linked.Load() != 1 {
				t.Fatalf("record %d: %d of two racing subjects linked, want 1", i, linked.Load())
			}
		}
	})
}

// TestLinkSubjectKeepsTheDocument: linking fills in a missing document but
// never replaces one the record has.
func TestLinkSubjectKeepsTheDocument(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, _ *clock) {
		ctx := context.Background()
		with := &store.Customer{Name: "Carla", Email: "carla@x.test", Document: "52998224725"}
		testdb.Must(t, st.CreateCustomer(ctx, with), "create")
		testdb.Must(t, st.LinkSubject(ctx, with.ID, "sub-c", "Carla Cliente", "", "11144477735"), "link")
		got, err := st.Customer(ctx, with.ID)
		testdb.Must(t, err, "customer")
		if got.Document != "52998224725" || got.Name != "Carla Cliente" {
			t.Errorf("after a link with another document: %+v, want the record's document kept", got)
		}
		without := customer(t, st, "daniel@x.test")
		testdb.Must(t, st.LinkSubject(ctx, without.ID, "sub-d", "", "", "11144477735"), "link")
		if got, _ := st.Customer(ctx, without.ID); got.Document != "11144477735" {
			t.Errorf("a record without a document got %q, want the portal's", got.Document)
		}
	})
}

// TestSearchRanksExactMatchesFirst: an exact code, e-mail, document or
// phone comes before the customers whose name or e-mail merely contains
// the query — even when those are more than the limit and sort before it
// by name; then an exact name, then a phone ending in the digits, then
// partial names and e-mails. A phone is matched exactly, not by a part
// of it, except at its end.
func TestSearchRanksExactMatchesFirst(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store, _ *clock) {
		ctx := context.Background()
		mk := func(name, email, doc, phone string) *store.Customer {
			t.Helper()
			c := &store.Customer{Name: name, Email: email, Document: doc, Phone: phone}
			testdb.Must(t, st.CreateCustomer(ctx, c), "create %s", name)
			return c
		}
		// Many customers whose e-mail contains "ana@x.test" and whose names
		// sort before the exact one's.
		for i := range 25 {
			mk(fmt.Sprintf("Aaron %02d", i), fmt.Sprintf("%02dana@x.test", i), "", "")
		}
		ana := mk("Zélia Ana", "ana@x.test", "52998224725", "5511987654321")
		nameOnly := mk("Ana", "", "", "")
		short := mk("Zuleica", "zu@x.test", "", "23456789")
		long := mk("Beatriz", "bia@x.test", "", "1123456789")
		digitsInEmail := mk("Alice", "alice11987654321@x.test", "", "")

		first := func(q string, limit int) []store.Customer {
			t.Helper()
			got, err := st.SearchCustomers(ctx, q, limit)
			testdb.Must(t, err, "search %q", q)
			return got
		}
		for _, q := range []string{"ana@x.test", "ANA@X.TEST", "529.982.247-25", ana.Code, "+55 (11) 98765-4321", "11987654321", "5511987654321"} {
			if got := first(q, 20); len(got) == 0 || got[0].ID != ana.ID {
				t.Errorf("search %q: first %v, want %s first", q, names(got), ana.Name)
			}
		}
		// "11987654321" is also a part of Alice's e-mail: after the phone.
		if got := first("11987654321", 20); len(got) != 2 || got[1].ID != digitsInEmail.ID {
			t.Errorf("search by phone: %v, want Zélia Ana then Alice", names(got))
		}
		// The exact name, then the names and e-mails containing it.
		got := first("ana", 50)
		if len(got) < 3 || got[0].ID != nameOnly.ID {
			t.Errorf("search ana: %v, want Ana first", names(got))
		}
		// A phone: exact first, a phone ending in the digits after it.
		got = first("2345-6789", 20)
		if len(got) != 2 || got[0].ID != short.ID || got[1].ID != long.ID {
			t.Errorf("search 2345-6789: %v, want Zuleica (exact) then Beatriz (ends in it)", names(got))
		}
		// A part of a phone that is not its end matches nothing.
		if got := first("5119-8765", 20); len(got) != 0 {
			t.Errorf("search 5119-8765 (the middle of a phone): %v, want none", names(got))
		}
	})
}

func names(cs []store.Customer) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}
