package api_test

import (
	"bytes"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// takeover is more than the API's mutation timeout, record timeout and
// margin (30 s + 5 s + 25 s): a key in flight that long is taken over.
const takeover = 61 * time.Second

// stuck makes the key of the request with key k look as if its first
// attempt died between its work and its recorded answer: in flight.
func (e *env) stuck(t *testing.T, k string) {
	t.Helper()
	res := e.st.DB().Exec("UPDATE idempotency_keys SET status = 0, response = '' WHERE key = ?", k)
	testdb.Must(t, res.Error, "unrecord the answer")
	if res.RowsAffected != 1 {
		t.Fatalf("key %s: %d rows", k, res.RowsAffected)
	}
}

// TestStuckKeyRunsAgain: after a 500 whose key could not even be released
// (the database failed for both), retries get 409 in flight — and once
// the key has been in flight longer than a request can run, a retry takes
// it over and runs: 201, the points given once, and the retries after it
// replay that answer.
func TestStuckKeyRunsAgain(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		c := e.createCustomer(t, map[string]any{"name": "Ana"})
		var down, armed atomic.Bool
		db := e.st.DB()
		reset := errors.New("simulated: connection reset")
		testdb.Must(t, db.Callback().Create().After("gorm:create").Register("test:claimed", func(db *gorm.DB) {
			// The claim is stored: from now on the database is down.
			if db.Statement.Table == "idempotency_keys" && db.Error == nil && armed.CompareAndSwap(true, false) {
				down.Store(true)
			}
		}), "callback")
		testdb.Must(t, db.Callback().Create().Before("gorm:create").Register("test:ledger", func(db *gorm.DB) {
			if down.Load() && db.Statement.Table == "ledger" {
				_ = db.AddError(reset)
			}
		}), "callback")
		testdb.Must(t, db.Callback().Delete().Before("gorm:delete").Register("test:release", func(db *gorm.DB) {
			if down.Load() && db.Statement.Table == "idempotency_keys" {
				_ = db.AddError(reset)
			}
		}), "callback")

		k := key("blip", 0)
		body := map[string]any{"points": 5}
		armed.Store(true)
		e.expect(t, http.StatusInternalServerError, "internal", true, "POST", pointsPath(c.ID), body, "Idempotency-Key", k)
		down.Store(false)
		x := e.expect(t, http.StatusConflict, "idempotency_key_in_flight", true, "POST", pointsPath(c.ID), body, "Idempotency-Key", k)
		if x.ResHeader.Get("Retry-After") == "" {
			t.Errorf("409 without Retry-After")
		}
		e.clk.advance(takeover)
		first := e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), body, "Idempotency-Key", k)
		if first.ResHeader.Get("Idempotent-Replayed") != "" {
			t.Errorf("the takeover's answer is marked as a replay")
		}
		again := e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), body, "Idempotency-Key", k)
		if !bytes.Equal(again.ResBody, first.ResBody) || again.ResHeader.Get("Idempotent-Replayed") != "true" {
			t.Errorf("after the takeover: %s, first %s", again, first)
		}
		if bal, sum := e.balanceAndLedger(t, c.ID); bal != 5 || sum != 5 || e.ledgerCount(t, c.ID) != 1 {
			t.Fatalf("balance %d, ledger %d in %d entries; want 5 once", bal, sum, e.ledgerCount(t, c.ID))
		}
	})
}

// TestCrashAfterTheWork: the first attempt did its work (a movement, a
// new customer) and died before recording its answer. Retries get 409
// until the key is stale; then one runs again and answers the movement or
// customer the first attempt made — never a second one.
func TestCrashAfterTheWork(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		c := e.createCustomer(t, map[string]any{"name": "Carla"})
		e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"points": 100})

		for _, tc := range []struct {
			name, path string
			body       map[string]any
		}{
			{"earn", pointsPath(c.ID), map[string]any{"points": 7}},
			{"redeem", redemptionsPath(c.ID), map[string]any{"points": 3}},
		} {
			k := key(tc.name, 0)
			first := e.expect(t, http.StatusCreated, "", true, "POST", tc.path, tc.body, "Idempotency-Key", k)
			e.stuck(t, k)
			e.expect(t, http.StatusConflict, "idempotency_key_in_flight", true, "POST", tc.path, tc.body, "Idempotency-Key", k)
			e.clk.advance(takeover)
			again := e.expect(t, http.StatusCreated, "", true, "POST", tc.path, tc.body, "Idempotency-Key", k)
			var r1, r2 resultOut
			first.decode(t, &r1)
			again.decode(t, &r2)
			if r1.Movement.ID != r2.Movement.ID || r1.Balance != r2.Balance {
				t.Fatalf("%s after the takeover: %s, first %s", tc.name, again, first)
			}
		}
		if bal, sum := e.balanceAndLedger(t, c.ID); bal != 104 || sum != 104 || e.ledgerCount(t, c.ID) != 3 {
			t.Fatalf("balance %d, ledger %d in %d entries; want 104 in 3", bal, sum, e.ledgerCount(t, c.ID))
		}

		// A customer with a name only: nothing else would tell a second
		// creation from the first.
		k := key("create", 0)
		body := map[string]any{"name": "Dona Sem Documento"}
		first := e.expect(t, http.StatusCreated, "", true, "POST", "/api/v1/customers", body, "Idempotency-Key", k)
		e.stuck(t, k)
		e.clk.advance(takeover)
		again := e.expect(t, http.StatusCreated, "", true, "POST", "/api/v1/customers", body, "Idempotency-Key", k)
		if !bytes.Equal(again.ResBody, first.ResBody) {
			t.Errorf("create after the takeover: %s, first %s", again, first)
		}
		found, err := e.st.SearchCustomers(t.Context(), "Dona Sem Documento", 10)
		testdb.Must(t, err, "search")
		if len(found) != 1 {
			t.Fatalf("%d customers after a create run twice", len(found))
		}
		// The key's record gone (48 h later), the same request still finds
		// that customer; 48 h after that, another request under the key
		// creates another.
		e.clk.advance(store.IdempotencyKeep + time.Hour)
		again = e.expect(t, http.StatusCreated, "", true, "POST", "/api/v1/customers", body, "Idempotency-Key", k)
		if !bytes.Equal(again.ResBody, first.ResBody) {
			t.Errorf("create after 48 h: %s, first %s", again, first)
		}
		e.clk.advance(store.IdempotencyKeep + time.Hour)
		other := e.expect(t, http.StatusCreated, "", true, "POST", "/api/v1/customers", map[string]any{"name": "Outra Dona"}, "Idempotency-Key", k)
		var c1, c2 customerOut
		first.decode(t, &c1)
		other.decode(t, &c2)
		if c1.ID == c2.ID || c2.Name != "Outra Dona" {
			t.Errorf("another request under an expired key: %s, first %s", other, first)
		}
	})
}
