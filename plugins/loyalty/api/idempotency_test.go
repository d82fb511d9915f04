package api_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// TestIdempotency: a retry gets the first answer and moves nothing; the
// key with another request is a 422; keys are per store token; recorded
// 4xx answers come back too, refused-before-running ones do not; a key in
// flight is a 409; the ledger refuses a movement twice even when the
// key's record is gone; keys expire after 48 hours.
func TestIdempotency(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c := e.createCustomer(t, map[string]any{"name": "Carla"})
		body := map[string]any{"points": 10, "receipt": "A1"}

		k := key("retry", 1)
		first := e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), body, "Idempotency-Key", k)
		if first.ResHeader.Get("Idempotent-Replayed") != "" {
			t.Errorf("a first answer marked as replayed")
		}
		for _, lang := range []string{"pt-BR", "en"} {
			again := e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), body, "Idempotency-Key", k, "Accept-Language", lang)
			if !bytes.Equal(again.ResBody, first.ResBody) || again.ResHeader.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("retry: %s (%v), first %s", again, again.ResHeader, first)
			}
		}
		if bal, sum := e.balanceAndLedger(t, c.ID); bal != 10 || sum != 10 || e.ledgerCount(t, c.ID) != 1 {
			t.Fatalf("after retries: balance %d, ledger %d", bal, sum)
		}

		// The key with another body, or another path: refused.
		x := e.expect(t, http.StatusUnprocessableEntity, "idempotency_key_reused", true, "POST", pointsPath(c.ID), map[string]any{"points": 11, "receipt": "A1"}, "Idempotency-Key", k)
		if x.ResHeader.Get("Idempotent-Replayed") != "" {
			t.Errorf("a refusal marked as replayed")
		}
		e.expect(t, http.StatusUnprocessableEntity, "idempotency_key_reused", true, "POST", redemptionsPath(c.ID), body, "Idempotency-Key", k)
		// Another store's token has its own keys.
		otherTok, _ := e.newShop(t, "Loja Shopping")
		x = e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), body, "Idempotency-Key", k, "Authorization", "Bearer "+otherTok)
		var r resultOut
		x.decode(t, &r)
		if r.Balance != 20 || *r.Movement.Store != "Loja Shopping" {
			t.Fatalf("another store, same key: %s", x)
		}

		// A 4xx of a request that ran is recorded: the retry gets it even
		// though the balance now covers the redemption.
		k2 := key("insufficient", 2)
		first = e.expect(t, http.StatusUnprocessableEntity, "insufficient_balance", true, "POST", redemptionsPath(c.ID), map[string]any{"points": 500}, "Idempotency-Key", k2)
		e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"points": 1000})
		again := e.expect(t, http.StatusUnprocessableEntity, "insufficient_balance", true, "POST", redemptionsPath(c.ID), map[string]any{"points": 500}, "Idempotency-Key", k2)
		if !bytes.Equal(again.ResBody, first.ResBody) || again.ResHeader.Get("Idempotent-Replayed") != "true" {
			t.Errorf("a recorded 422 was not replayed: %s", again)
		}
		if bal, _ := e.balanceAndLedger(t, c.ID); bal != 1020 {
			t.Errorf("balance %d, want 1020", bal)
		}
		// A request refused before running is not recorded: fixed, it runs
		// under the same key.
		k3 := key("fixed", 3)
		e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", pointsPath(c.ID), map[string]any{"points": 0}, "Idempotency-Key", k3)
		e.expect(t, http.StatusBadRequest, "unknown_field", false, "POST", pointsPath(c.ID), map[string]any{"pontos": 5}, "Idempotency-Key", k3)
		e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"points": 5}, "Idempotency-Key", k3)

		// Malformed keys.
		for _, bad := range []string{strings.Repeat("k", 256), "a b", "chave-é", "tab\tkey", " "} {
			e.expect(t, http.StatusBadRequest, "invalid_idempotency_key", false, "POST", pointsPath(c.ID), map[string]any{"points": 1}, "Idempotency-Key", bad)
		}
		e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"points": 1}, "Idempotency-Key", strings.Repeat("k", 255))
		req, _ := http.NewRequest("POST", e.srv.URL+pointsPath(c.ID), strings.NewReader(`{"points":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Add("Idempotency-Key", "a")
		req.Header.Add("Idempotency-Key", "b")
		res, err := e.client.Do(req)
		testdb.Must(t, err, "two keys")
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("two Idempotency-Key headers: %d", res.StatusCode)
		}

		// A key in flight: the first request crashed between its claim
		// (and perhaps its movement) and its recorded answer.
		k4 := key("crash", 4)
		crashBody := `{"points":7}`
		claim, stored, err := e.st.BeginIdempotent(ctx, e.shop.ID, k4, store.RequestHash("POST", pointsPath(c.ID), []byte(crashBody)), time.Minute)
		if claim == nil || stored != nil || err != nil {
			t.Fatalf("claim: %v %v %v", claim, stored, err)
		}
		x = e.expect(t, http.StatusConflict, "idempotency_key_in_flight", true, "POST", pointsPath(c.ID), crashBody, "Idempotency-Key", k4)
		if x.ResHeader.Get("Retry-After") == "" {
			t.Errorf("409 without Retry-After: %v", x.ResHeader)
		}
		before, _ := e.balanceAndLedger(t, c.ID)

		// The ledger's guard: the key's record is lost after the movement
		// (as if it had been released), and the retry runs again — the
		// database refuses the second movement and the retry gets the first.
		k5 := key("lost", 5)
		first = e.expect(t, http.StatusCreated, "", true, "POST", redemptionsPath(c.ID), map[string]any{"points": 3}, "Idempotency-Key", k5)
		testdb.Must(t, e.st.DB().Exec("DELETE FROM idempotency_keys WHERE key = ?", k5).Error, "lose the record")
		again = e.expect(t, http.StatusCreated, "", true, "POST", redemptionsPath(c.ID), map[string]any{"points": 3}, "Idempotency-Key", k5)
		var r1, r2 resultOut
		first.decode(t, &r1)
		again.decode(t, &r2)
		if r1.Movement.ID != r2.Movement.ID || r2.Balance != before-3 {
			t.Fatalf("after the lost record: %s, first %s", again, first)
		}
		k6 := key("lost-earn", 6)
		first = e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"amount_cents": 5000}, "Idempotency-Key", k6)
		testdb.Must(t, e.st.DB().Exec("DELETE FROM idempotency_keys WHERE key = ?", k6).Error, "lose the record")
		again = e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"amount_cents": 5000}, "Idempotency-Key", k6)
		first.decode(t, &r1)
		again.decode(t, &r2)
		if r1.Movement.ID != r2.Movement.ID || r2.Balance != before-3+5 {
			t.Fatalf("earn after the lost record: %s, first %s", again, first)
		}

		// Creating a customer: a retry returns the same customer.
		k7 := key("create", 7)
		x = e.expect(t, http.StatusCreated, "", true, "POST", "/api/v1/customers", map[string]any{"name": "Dona Idempotente"}, "Idempotency-Key", k7)
		again = e.expect(t, http.StatusCreated, "", true, "POST", "/api/v1/customers", map[string]any{"name": "Dona Idempotente"}, "Idempotency-Key", k7)
		if !bytes.Equal(x.ResBody, again.ResBody) {
			t.Errorf("create retried: %s vs %s", again, x)
		}
		if got, _ := e.st.SearchCustomers(ctx, "Dona Idempotente", 10); len(got) != 1 {
			t.Errorf("%d customers after a retried create", len(got))
		}

		// After 48 hours a key is forgotten: another body runs under it.
		// The same body is still refused by the ledger's guard.
		bal, _ := e.balanceAndLedger(t, c.ID)
		e.clk.advance(store.IdempotencyKeep + time.Hour)
		x = e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"points": 4}, "Idempotency-Key", k)
		x.decode(t, &r)
		if r.Balance != bal+4 {
			t.Errorf("a forgotten key with another body: %s", x)
		}
		x = e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"amount_cents": 5000}, "Idempotency-Key", k6)
		x.decode(t, &r)
		if r.Movement.ID != r1.Movement.ID || r.Balance != bal+4 {
			t.Errorf("a forgotten key with its first body moved points again: %s", x)
		}
		if bal, sum := e.balanceAndLedger(t, c.ID); bal != sum {
			t.Errorf("balance %d, ledger %d", bal, sum)
		}
	})
}

// TestConcurrentSameKey: many copies of one request with one key at once
// → one runs (201), the others get 409 in flight or the replayed 201;
// one movement, never two.
func TestConcurrentSameKey(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			name, path string
			body       map[string]any
		}{
			{"earn", "points", map[string]any{"points": 25}},
			{"redeem", "redemptions", map[string]any{"points": 5}},
		} {
			c := e.createCustomer(t, map[string]any{"name": "Concorrida " + tc.name})
			e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"points": 100})
			k := key("same-"+tc.name, 0)
			var mu sync.Mutex
			var ran, replayed, inFlight int
			var firstBody []byte
			var replays [][]byte
			var wg sync.WaitGroup
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					x := e.send(t, "POST", "/api/v1/customers/"+c.ID+"/"+tc.path, tc.body, "Idempotency-Key", k)
					if err := theSpec.check(x, true); err != nil {
						t.Errorf("%s: %v", x, err)
					}
					mu.Lock()
					defer mu.Unlock()
					switch {
					case x.Status == http.StatusCreated && x.ResHeader.Get("Idempotent-Replayed") == "":
						ran++
						firstBody = x.ResBody
					case x.Status == http.StatusCreated:
						replayed++
						replays = append(replays, x.ResBody)
					case x.Status == http.StatusConflict && x.errorCode() == "idempotency_key_in_flight":
						inFlight++
					default:
						t.Errorf("unexpected: %s", x)
					}
				}()
			}
			wg.Wait()
			for _, b := range replays {
				if !bytes.Equal(b, firstBody) {
					t.Errorf("a replay differs: %s vs %s", b, firstBody)
				}
			}
			if ran != 1 || ran+replayed+inFlight != 20 || e.ledgerCount(t, c.ID) != 2 {
				t.Fatalf("%s: %d ran, %d replayed, %d in flight, %d movements", tc.name, ran, replayed, inFlight, e.ledgerCount(t, c.ID))
			}
			t.Logf("%s %s: 1 ran, %d replayed, %d in flight", e.driver, tc.name, replayed, inFlight)
			if bal, sum := e.balanceAndLedger(t, c.ID); bal != sum {
				t.Errorf("balance %d, ledger %d", bal, sum)
			}
		}
	})
}

// TestConcurrentRedemptions: 100 concurrent redemptions of 10 points
// against a balance of 500 through the API → exactly 50 × 201 and 50 ×
// 422 insufficient_balance; the balance ends at 0, the ledger's sum.
func TestConcurrentRedemptions(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		c := e.createCustomer(t, map[string]any{"name": "Carla"})
		e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"points": 500}, "Idempotency-Key", key("fund", 0))
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				x := e.send(t, "POST", redemptionsPath(c.ID), map[string]any{"points": 10}, "Idempotency-Key", key("r", i))
				switch {
				case x.Status == http.StatusCreated:
					ok.Add(1)
				case x.Status == http.StatusUnprocessableEntity && x.errorCode() == "insufficient_balance" && strings.Contains(x.errorMessage(), "Saldo insuficiente"):
					refused.Add(1)
				default:
					t.Errorf("unexpected: %s", x)
				}
			}()
		}
		close(start)
		wg.Wait()
		bal, sum := e.balanceAndLedger(t, c.ID)
		if ok.Load() != 50 || refused.Load() != 50 || bal != 0 || sum != 0 {
			t.Fatalf("%d × 201, %d × 422, balance %d, ledger %d; want 50, 50, 0, 0", ok.Load(), refused.Load(), bal, sum)
		}
	})
}

// TestRandomWorkloadWithRetries: workers send a random mix of earns (by
// points and by amount) and redemptions over a few customers, each with
// its key, and re-send it — at once and later, as a POS retries after a
// timeout — until they get a final answer. Afterwards every balance
// equals its ledger, the ledger holds exactly the movements that
// answered 201 (each once), and every replay matched its first answer.
func TestRandomWorkloadWithRetries(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		var customers []customerOut
		for i := range 4 {
			customers = append(customers, e.createCustomer(t, map[string]any{"name": fmt.Sprintf("Cliente %d", i)}))
		}
		var mu sync.Mutex
		applied := map[string]int64{}   // movement id → points
		final := map[string][]byte{}    // key → first final answer
		perCustomer := map[string]int{} // customer → movements that answered 201
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rnd := rand.New(rand.NewPCG(uint64(w), 13))
				for op := range 30 {
					c := customers[rnd.IntN(len(customers))]
					k := fmt.Sprintf("w%d-op%d-%d", w, op, time.Now().UnixNano())
					var path string
					var body map[string]any
					switch rnd.IntN(5) {
					case 0, 1:
						path, body = pointsPath(c.ID), map[string]any{"points": 1 + rnd.IntN(40)}
					case 2:
						path, body = pointsPath(c.ID), map[string]any{"amount_cents": 1000 + rnd.IntN(20000)}
					default:
						path, body = redemptionsPath(c.ID), map[string]any{"points": 1 + rnd.IntN(60)}
					}
					// The first send and, half the time, a concurrent retry.
					copies := 1 + rnd.IntN(2)
					var inner sync.WaitGroup
					answers := make([]*exchange, copies)
					for i := range copies {
						inner.Add(1)
						go func() {
							defer inner.Done()
							answers[i] = e.send(t, "POST", path, body, "Idempotency-Key", k)
						}()
					}
					inner.Wait()
					// Retries until a final answer (not in flight), and one
					// more after it.
					for attempt := 0; ; attempt++ {
						last := answers[len(answers)-1]
						if last.Status != http.StatusConflict || attempt > 200 {
							break
						}
						time.Sleep(5 * time.Millisecond)
						answers = append(answers, e.send(t, "POST", path, body, "Idempotency-Key", k))
					}
					answers = append(answers, e.send(t, "POST", path, body, "Idempotency-Key", k))

					mu.Lock()
					for _, x := range answers {
						switch {
						case x.Status == http.StatusConflict && x.errorCode() == "idempotency_key_in_flight":
							continue
						case x.Status == http.StatusCreated,
							x.Status == http.StatusUnprocessableEntity && x.errorCode() == "insufficient_balance":
						default:
							t.Errorf("unexpected: %s", x)
							continue
						}
						if f, ok := final[k]; ok {
							if !bytes.Equal(f, x.ResBody) {
								t.Errorf("key %s: two final answers: %s and %s", k, f, x.ResBody)
							}
							continue
						}
						final[k] = x.ResBody
						if x.Status == http.StatusCreated {
							var r resultOut
							x.decode(t, &r)
							if _, dup := applied[r.Movement.ID]; dup {
								t.Errorf("movement %s answered twice as new", r.Movement.ID)
							}
							applied[r.Movement.ID] = r.Movement.Points
							perCustomer[c.ID]++
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		var total int
		for _, c := range customers {
			bal, sum := e.balanceAndLedger(t, c.ID)
			n := e.ledgerCount(t, c.ID)
			total += n
			if bal < 0 || bal != sum || n != perCustomer[c.ID] {
				t.Errorf("customer %s: balance %d, ledger sum %d, %d entries, %d answered 201", c.Name, bal, sum, n, perCustomer[c.ID])
			}
		}
		if total != len(applied) {
			t.Errorf("%d ledger entries, %d movements answered", total, len(applied))
		}
		t.Logf("%s: %d keys, %d movements", e.driver, len(final), len(applied))
	})
}
