package server_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver, to change the schema behind the server's back

	"github.com/portico-dev/portico/host/portal"
	"github.com/portico-dev/portico/host/server"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestLoginBudgetSharedByNodes: two nodes behind one PostgreSQL database
// share one account budget. A burst of wrong passwords spread over both
// nodes, then single attempts alternating between them, get exactly
// AccountFailures password checks in all (per-node counters allowed
// twice as many); the locked account is refused on both nodes, even with
// the right password, while another account logs in from the same
// address (its budget of IPFailures is not spent by the lock-out).
func TestLoginBudgetSharedByNodes(t *testing.T) {
	dbURL := testdb.URL(t, "postgres")
	secret := []byte(auth.NewToken()[:32])
	a := servertest.StartOnStore(t, testdb.OpenURL(t, dbURL), func(c *config.Config) { c.SecretKey = secret })
	b, _ := servertest.StartNode(t, testdb.OpenURL(t, dbURL), a, func(c *config.Config) { c.SecretKey = secret })
	nodes := []*servertest.Portal{a, b}
	wrong := map[string]string{"email": "cliente@demo.portico.test", "password": "errada"}

	var checks atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := nodes[i%2].NewClient(t, "").Do("POST", "/api/v1/session", wrong)
			switch {
			case r.Status == http.StatusUnauthorized:
				checks.Add(1)
			case r.Status == http.StatusTooManyRequests && (r.ErrorCode() == "rate_limited" || r.ErrorCode() == "login_busy"):
			default:
				t.Errorf("burst attempt: %d %.200s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	if checks.Load() > server.AccountFailures {
		t.Fatalf("%d password checks in a burst over two nodes, want at most %d", checks.Load(), server.AccountFailures)
	}
	for i := 0; ; i++ {
		r := nodes[i%2].NewClient(t, "").Do("POST", "/api/v1/session", wrong)
		if r.Status == http.StatusUnauthorized {
			checks.Add(1)
			if i > 2*server.AccountFailures {
				t.Fatalf("still checking passwords after %d checks", checks.Load())
			}
			continue
		}
		if r.Status != http.StatusTooManyRequests || r.ErrorCode() != "rate_limited" {
			t.Fatalf("after the budget: %d %.200s", r.Status, r.Body)
		}
		break
	}
	if checks.Load() != server.AccountFailures {
		t.Fatalf("%d password checks over two nodes, want the one budget of %d", checks.Load(), server.AccountFailures)
	}
	right := map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password}
	for i, n := range nodes {
		r := n.NewClient(t, "").Do("POST", "/api/v1/session", right)
		wait, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if r.Status != http.StatusTooManyRequests || err != nil || wait < 60 || wait > int(server.ThrottleWindow/time.Second)+1 {
			t.Errorf("node %d, the locked account's right password: %d Retry-After %q, want 429 for the rest of the window", i, r.Status, r.Header.Get("Retry-After"))
		}
	}
	for i, n := range nodes {
		c := n.NewClient(t, "")
		if r := c.Do("POST", "/api/v1/session", map[string]string{"email": "sindico@demo.portico.test", "password": demo.Password}); r.Status != http.StatusOK {
			t.Errorf("node %d, another account from the same address: %d %.200s", i, r.Status, r.Body)
		}
	}
}

// TestLoginThrottleFailsClosed: when the throttle's table cannot be used
// while the users still can be read (it was renamed behind the server's
// back), a login, even with the right password, is refused 503
// database_unavailable with Retry-After and a message in the client's
// language, never let through unthrottled; once the table is back, the
// same login succeeds.
func TestLoginThrottleFailsClosed(t *testing.T) {
	dbURL := testdb.URL(t, "postgres")
	p := servertest.StartOnStore(t, testdb.OpenURL(t, dbURL), nil)
	db, err := sql.Open("pgx", dbURL)
	testdb.Must(t, err, "open database")
	defer db.Close()
	rename := func(from, to string) {
		t.Helper()
		_, err := db.Exec("ALTER TABLE " + from + " RENAME TO " + to)
		testdb.Must(t, err, "rename %s", from)
	}
	rename("login_throttle", "login_throttle_away")
	right := map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password}
	r := p.NewClient(t, "").Do("POST", "/api/v1/session", right, "Accept-Language", "en")
	var body struct {
		Error struct{ Code, Message string }
	}
	r.JSON(t, &body)
	if r.Status != http.StatusServiceUnavailable || body.Error.Code != "database_unavailable" || r.Header.Get("Retry-After") == "" ||
		!strings.Contains(body.Error.Message, "temporarily unavailable") {
		t.Fatalf("login without the throttle: %d %s (Retry-After %q), want 503 database_unavailable", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	if r.Header.Get("Set-Cookie") != "" && strings.Contains(r.Header.Get("Set-Cookie"), "portico_session=") {
		t.Fatal("a session was started without the throttle")
	}
	// The portal's login form answers the same, as a page.
	c := p.NewClient(t, "")
	page := c.Do("GET", "/login", nil, "Accept-Language", "es")
	form := url.Values{"_csrf": {csrfOf(t, page)}, "email": {right["email"]}, "password": {right["password"]}}
	if r := c.Do("POST", "/login", form, "Accept-Language", "es"); r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Body), "no está disponible") {
		t.Fatalf("login form without the throttle: %d %.600s", r.Status, r.Body)
	}
	rename("login_throttle_away", "login_throttle")
	if r := p.NewClient(t, "").Do("POST", "/api/v1/session", right); r.Status != http.StatusOK {
		t.Fatalf("login once the table is back: %d %.200s", r.Status, r.Body)
	}
}

// TestForgotBurstThrottledExactly: 20 concurrent reset requests for one
// address get exactly ForgotPerEmail answers; every other one is refused
// 429 with Retry-After. (The budget used to be checked, then counted, so
// a burst passed it whole.)
func TestForgotBurstThrottledExactly(t *testing.T) {
	p, _ := startWithSMTP(t, nil)
	var sent, limited atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := p.NewClient(t, "")
			page := c.Do("GET", "/forgot", nil)
			r := c.Do("POST", "/forgot", url.Values{"_csrf": {csrfOf(t, page)}, "email": {"ninguem@demo.portico.test"}})
			switch {
			case r.Status == http.StatusOK:
				sent.Add(1)
			case r.Status == http.StatusTooManyRequests && r.Header.Get("Retry-After") != "":
				limited.Add(1)
			default:
				t.Errorf("forgot request: %d %.200s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	if sent.Load() != portal.ForgotPerEmail || limited.Load() != 20-portal.ForgotPerEmail {
		t.Fatalf("%d answered, %d refused of 20 concurrent requests; want exactly %d answered", sent.Load(), limited.Load(), portal.ForgotPerEmail)
	}
}

// TestResetFormSpendsTheLoginBudget: wrong reset tokens spend the client
// address's login budget, shared with the login: after IPFailures of them
// the form answers 429 with Retry-After, and so does a login from that
// address in a new browser.
func TestResetFormSpendsTheLoginBudget(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	c := p.NewClient(t, "")
	csrf := csrfOf(t, c.Do("GET", "/login", nil))
	for i := 0; ; i++ {
		r := c.Do("POST", "/reset/not-a-token-"+strconv.Itoa(i), url.Values{"_csrf": {csrf}, "password": {"uma-senha-nova-123"}, "confirm": {"uma-senha-nova-123"}})
		if r.Status == http.StatusNotFound && i < server.IPFailures {
			continue
		}
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || i != server.IPFailures {
			t.Fatalf("reset %d: %d (Retry-After %q), want 404 for the first %d and then 429", i+1, r.Status, r.Header.Get("Retry-After"), server.IPFailures)
		}
		break
	}
	r := p.NewClient(t, "").Do("POST", "/api/v1/session", map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password})
	if r.Status != http.StatusTooManyRequests || r.ErrorCode() != "rate_limited" {
		t.Fatalf("login from the address after the wrong tokens: %d %.200s", r.Status, r.Body)
	}
}

// TestResetFormBudgetHoldsUnderABurst sends wrong reset tokens from one
// address all at once: the attempt is reserved before the token is looked
// up, so no more than the address's budget are ever answered "invalid
// link", and the budget is then spent exactly.
func TestResetFormBudgetHoldsUnderABurst(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			p := servertest.Start(t, driver)
			c := p.NewClient(t, "")
			csrf := csrfOf(t, c.Do("GET", "/login", nil))
			post := func(i int) int {
				return c.Do("POST", "/reset/not-a-token-"+strconv.Itoa(i), url.Values{"_csrf": {csrf}, "password": {"uma-senha-nova-123"}, "confirm": {"uma-senha-nova-123"}}).Status
			}
			const burst = 2 * server.IPFailures
			var invalid, limited atomic.Int64
			var wg sync.WaitGroup
			for i := range burst {
				wg.Go(func() {
					switch st := post(i); st {
					case http.StatusNotFound:
						invalid.Add(1)
					case http.StatusTooManyRequests:
						limited.Add(1)
					default:
						t.Errorf("reset %d: %d, want 404 or 429", i, st)
					}
				})
			}
			wg.Wait()
			if n := invalid.Load(); n < 1 || n > server.IPFailures || n+limited.Load() != burst {
				t.Fatalf("a burst of %d: %d answered 404 and %d 429; at most %d may reach the token check", burst, n, limited.Load(), server.IPFailures)
			}
			// Every reservation is settled now: what the burst left of the
			// budget is spent one by one, then the address is refused.
			for i := burst; ; i++ {
				st := post(i)
				if st == http.StatusNotFound && invalid.Add(1) <= server.IPFailures {
					continue
				}
				if st != http.StatusTooManyRequests || invalid.Load() != server.IPFailures {
					t.Fatalf("reset %d: %d after %d invalid links in all; want 429 after exactly %d", i, st, invalid.Load(), server.IPFailures)
				}
				break
			}
		})
	}
}
