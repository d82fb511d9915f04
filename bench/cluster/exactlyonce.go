package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// The documented login budgets (docs/design.md, "Sessions, CSRF and login
// throttling"): failed passwords allowed per account and per client
// address in a 15-minute window before 429.
const (
	accountBudget = 5
	addressBudget = 30
)

// runExactlyOnce redeems launch tokens and portal-session links through
// all three nodes at once, and spreads password guesses over the nodes,
// while a background load runs through nginx.
func runExactlyOnce(ctx context.Context, c *cluster) (*result, error) {
	res := newResult(c, "exactly-once", fmt.Sprintf("While a background load (%d workers) runs through nginx: %d launch tokens, each minted through nginx and then "+
		"exchanged through the three nodes directly at the same instant; %d portal-session links, each created through nginx and opened through the three nodes at once; "+
		"then password guesses spread over the three nodes, against one account from many addresses, and from one address against many accounts.",
		max(1, c.cfg.concurrency/2), c.cfg.tokens, c.cfg.tokens))
	bg := startLoad(ctx, c, loadOptions{base: c.nginx.base(), workers: max(1, c.cfg.concurrency/2), limit: 15 * time.Minute})
	defer bg.stop()

	if err := c.tokensOnce(ctx, res); err != nil {
		return res, err
	}
	if err := c.linksOnce(ctx, res); err != nil {
		return res, err
	}
	bg.stop()
	if f := failures(bg.snapshot(), 0, time.Hour); len(f) > 0 {
		res.addTable("Background load: failed requests", failureTable(f))
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if err := c.accountGuesses(ctx, res); err != nil {
		return res, err
	}
	if err := c.addressGuesses(ctx, res); err != nil {
		return res, err
	}
	return res, nil
}

// race sends one request per node at the same instant and returns the
// answers in node order.
func (c *cluster) race(ctx context.Context, client *http.Client, mk func(n *node) call) []answer {
	out := make([]answer, len(c.nodes))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := mk(n)
			<-start
			out[i] = do(ctx, client, cl)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// onceTally counts, per item redeemed through every node, how many
// redemptions succeeded, and what the others answered.
type onceTally struct {
	mu              sync.Mutex
	items           int
	zero, one, many int
	setupFailed     int
	winners         map[string]int // node → successes
	others          map[string]int // class of the other answers
	setupErrors     map[string]int
	firstErr        string
}

func newOnceTally() *onceTally {
	return &onceTally{winners: map[string]int{}, others: map[string]int{}, setupErrors: map[string]int{}}
}

func (t *onceTally) add(c *cluster, answers []answer, want int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.items++
	wins := 0
	for i, a := range answers {
		if a.err == nil && a.status == want {
			wins++
			t.winners[c.nodes[i].name]++
			continue
		}
		class, detail := a.describe()
		t.others[class]++
		if t.firstErr == "" && !strings.HasPrefix(class, "4") {
			t.firstErr = class + ": " + detail
		}
	}
	switch wins {
	case 0:
		t.zero++
	case 1:
		t.one++
	default:
		t.many++
	}
}

func (t *onceTally) setupFailure(class string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.setupFailed++
	t.setupErrors[class]++
}

// table renders the tally.
func (t *onceTally) table(what string) *table {
	tb := &table{header: []string{"", "count"}}
	tb.add(what+" redeemed through the 3 nodes at once", fmt.Sprint(t.items))
	tb.add("exactly one success", fmt.Sprint(t.one))
	tb.add("no success", fmt.Sprint(t.zero))
	tb.add("more than one success", fmt.Sprint(t.many))
	var w []string
	for n, k := range t.winners {
		w = append(w, fmt.Sprintf("%s %d", n, k))
	}
	slices.Sort(w)
	tb.add("successes by node", strings.Join(w, ", "))
	var o []string
	for cl, k := range t.others {
		o = append(o, fmt.Sprintf("%s ×%d", cl, k))
	}
	slices.Sort(o)
	tb.add("the other answers", strings.Join(o, "; "))
	if t.setupFailed > 0 {
		var s []string
		for cl, k := range t.setupErrors {
			s = append(s, fmt.Sprintf("%s ×%d", cl, k))
		}
		slices.Sort(s)
		tb.add("could not be made (not redeemed)", fmt.Sprintf("%d: %s", t.setupFailed, strings.Join(s, "; ")))
	}
	return tb
}

// parallel runs f(i) for i in [0, n) on workers goroutines.
func parallel(ctx context.Context, n, workers int, f func(i int)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				f(i)
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// tokensOnce: each launch token is exchanged through all nodes at once.
func (c *cluster) tokensOnce(ctx context.Context, res *result) error {
	c.logf("exactly-once: %d launch tokens", c.cfg.tokens)
	client := newHTTPClient(16)
	defer client.CloseIdleConnections()
	t := newOnceTally()
	cred := c.fx.example
	auth := basicAuth(cred.ClientID, cred.ClientSecret)
	parallel(ctx, c.cfg.tokens, 4, func(i int) {
		s := c.fx.users[i%len(c.fx.users)]
		a := do(ctx, client, call{method: "GET", url: c.nginx.base() + "/p/exemplo/launch", header: s.header()})
		tok, ok := launchToken(a.body)
		if a.status != http.StatusOK || !ok {
			class, _ := a.describe()
			t.setupFailure("mint: " + class)
			return
		}
		answers := c.race(ctx, client, func(n *node) call {
			// The token's iss is the origin it was minted on (nginx's):
			// the exchange checks it against the Host it is sent to.
			return call{method: "POST", url: n.base() + "/api/v1/launch/exchange", host: c.nginx.addr,
				header: http.Header{"Authorization": {auth}}, body: map[string]string{"token": tok}}
		})
		t.add(c, answers, http.StatusOK)
	})
	res.addTable("Launch tokens", t.table("tokens"))
	res.check("every launch token exchanged exactly once", t.many == 0 && t.zero == 0 && t.one == c.cfg.tokens,
		"%d of %d exactly once, %d twice or more, %d never", t.one, c.cfg.tokens, t.many, t.zero)
	onlyUsed := len(t.others) == 1 && t.others["401 token_used"] > 0
	res.check("the losers were told token_used", onlyUsed, "%v", t.others)
	return nil
}

// linksOnce: each portal-session link is opened through all nodes at once.
func (c *cluster) linksOnce(ctx context.Context, res *result) error {
	c.logf("exactly-once: %d portal-session links", c.cfg.tokens)
	client := newHTTPClient(16)
	defer client.CloseIdleConnections()
	t := newOnceTally()
	parallel(ctx, c.cfg.tokens, 4, func(i int) {
		s := c.fx.users[i%len(c.fx.users)]
		a := do(ctx, client, call{method: "POST", url: c.nginx.base() + "/api/v1/portal/sessions",
			header: http.Header{"Authorization": {"Bearer " + c.fx.apiKey}}, body: map[string]string{"customer_email": s.email}})
		var ps portalSession
		path := ""
		if a.status == http.StatusCreated && jsonInto(a.body, &ps) && ps.AuthURL != "" {
			path, _ = pathOf(ps.AuthURL)
		}
		if path == "" {
			class, _ := a.describe()
			t.setupFailure("create: " + class)
			return
		}
		answers := c.race(ctx, client, func(n *node) call {
			return call{method: "GET", url: n.base() + path, host: c.nginx.addr}
		})
		t.add(c, answers, http.StatusSeeOther)
	})
	res.addTable("Portal-session links", t.table("links"))
	res.check("every portal-session link opened exactly once", t.many == 0 && t.zero == 0 && t.one == c.cfg.tokens,
		"%d of %d exactly once, %d twice or more, %d never", t.one, c.cfg.tokens, t.many, t.zero)
	return nil
}

// guessTally counts login attempts by answer.
type guessTally struct {
	attempts, verified, refused int
	verifiedByNode              map[string]int
	other                       map[string]int
	firstRefusedAt              int // attempt number of the first 429 (1-based), 0 if none
	retryAfter                  string
}

// guess sends one login attempt to n from address ip.
func (c *cluster) guess(ctx context.Context, client *http.Client, n *node, email, password, ip string) answer {
	return do(ctx, client, call{method: "POST", url: n.base() + "/api/v1/session", host: c.nginx.addr,
		header: http.Header{"X-Forwarded-For": {ip}}, body: map[string]string{"email": email, "password": password}})
}

func (g *guessTally) add(n *node, a answer) {
	g.attempts++
	class, _ := a.describe()
	switch {
	case a.err == nil && a.status == http.StatusUnauthorized:
		g.verified++
		g.verifiedByNode[n.name]++
	case a.err == nil && a.status == http.StatusTooManyRequests && class == "429 rate_limited":
		g.refused++
		if g.firstRefusedAt == 0 {
			g.firstRefusedAt = g.attempts
			g.retryAfter = a.header.Get("Retry-After")
		}
	default:
		g.other[class]++
	}
}

func (g *guessTally) table(budget int, nodes int) *table {
	t := &table{header: []string{"", "count"}}
	t.add("wrong passwords sent", fmt.Sprint(g.attempts))
	var by []string
	for n, k := range g.verifiedByNode {
		by = append(by, fmt.Sprintf("%s %d", n, k))
	}
	slices.Sort(by)
	t.add("verified (401 invalid_credentials)", fmt.Sprintf("%d (%s)", g.verified, strings.Join(by, ", ")))
	t.add("refused unverified (429 rate_limited)", fmt.Sprintf("%d, the first at attempt %d, Retry-After %s s", g.refused, g.firstRefusedAt, g.retryAfter))
	if len(g.other) > 0 {
		t.add("other answers", fmt.Sprint(g.other))
	}
	t.add("documented budget", fmt.Sprintf("%d (one budget for the installation; %d × %d = %d if each node counted alone)", budget, nodes, budget, nodes*budget))
	return t
}

// accountGuesses guesses one account's password through the nodes in
// turn, three at a time (one per node), each guess from a new address.
func (c *cluster) accountGuesses(ctx context.Context, res *result) error {
	client := newHTTPClient(8)
	defer client.CloseIdleConnections()
	attempts := len(c.nodes)*accountBudget + 10
	c.logf("exactly-once: %d password guesses against %s over the nodes", attempts, demoSindico)
	g := &guessTally{verifiedByNode: map[string]int{}, other: map[string]int{}}
	for round := 0; round*len(c.nodes) < attempts; round++ {
		answers := c.race(ctx, client, func(n *node) call {
			i := round*len(c.nodes) + slices.Index(c.nodes, n)
			return call{method: "POST", url: n.base() + "/api/v1/session", host: c.nginx.addr,
				header: http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.100.%d", i%250+1)}},
				body:   map[string]string{"email": demoSindico, "password": fmt.Sprintf("wrong-%d", i)}}
		})
		for i, a := range answers {
			g.add(c.nodes[i], a)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	res.addTable(fmt.Sprintf("Password guesses against one account (%s) from %d addresses, spread over the nodes", demoSindico, g.attempts), g.table(accountBudget, len(c.nodes)))
	res.check("one account's guesses held to one budget", g.verified <= accountBudget,
		"%d verified before every node refused, budget %d", g.verified, accountBudget)
	// Even the right password is refused while the account is locked.
	var right []string
	lockedEverywhere := true
	for i, n := range c.nodes {
		a := c.guess(ctx, client, n, demoSindico, demoPassword, fmt.Sprintf("198.51.100.%d", 251+i))
		class, _ := a.describe()
		if a.status == http.StatusOK {
			class = "200 logged in"
			lockedEverywhere = false
		}
		right = append(right, n.name+": "+class)
	}
	res.check("the right password is refused on every node while locked", lockedEverywhere, "%s", strings.Join(right, "; "))
	return nil
}

// addressGuesses sends guesses from one address, each against another
// (unknown) account, through the nodes in turn.
func (c *cluster) addressGuesses(ctx context.Context, res *result) error {
	client := newHTTPClient(8)
	defer client.CloseIdleConnections()
	attempts := len(c.nodes)*addressBudget + 15
	const ip = "203.0.113.77"
	c.logf("exactly-once: %d password guesses from %s over the nodes", attempts, ip)
	g := &guessTally{verifiedByNode: map[string]int{}, other: map[string]int{}}
	for i := range attempts {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n := c.nodes[i%len(c.nodes)]
		// One at a time: the login queue lets an address have two logins
		// in progress, and this measures the budget, not the queue.
		g.add(n, c.guess(ctx, client, n, fmt.Sprintf("guess-%03d-%s@cluster.portico.test", i, c.runID), "wrong", ip))
	}
	res.addTable(fmt.Sprintf("Password guesses from one address (%s) against %d accounts, spread over the nodes", ip, attempts), g.table(addressBudget, len(c.nodes)))
	res.check("one address's guesses held to one budget", g.verified <= addressBudget,
		"%d verified, budget %d", g.verified, addressBudget)
	return nil
}

// basicAuth is an HTTP Basic Authorization value.
func basicAuth(user, password string) string {
	req, _ := http.NewRequest("GET", "http://x", nil)
	req.SetBasicAuth(user, password)
	return req.Header.Get("Authorization")
}
