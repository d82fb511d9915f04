package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// The kinds of request the load makes, in report order.
const (
	kMenu       = "menu"           // GET /api/v1/me/menu
	kPage       = "plugin_page"    // GET /p/ola: the portal page of a wasm plugin (renders it; counts a visit in its KV store)
	kAction     = "wasm_action"    // POST /api/v1/me/plugins/ola/actions/greet
	kLaunch     = "launch"         // GET /p/exemplo/launch: mints a launch token
	kExchange   = "exchange"       // POST /api/v1/launch/exchange: redeems it, as the example app would
	kPortal     = "portal_session" // POST /api/v1/portal/sessions (API key)
	kPortalOpen = "portal_open"    // GET the auth_url: logs the customer in, 303
	kSlip       = "segunda_via"    // POST /api/v1/me/plugins/financeiro/actions/emitir: issues a slip in the fake ERP
)

var kindOrder = []string{kMenu, kPage, kAction, kLaunch, kExchange, kPortal, kPortalOpen, kSlip}

// An operation is what one worker does in one turn: one request, or two
// for launch (mint + exchange) and portal (create + open).
type operation int

const (
	opMenu operation = iota
	opPage
	opAction
	opLaunch
	opPortal
	opSlip
)

// mix is the share of each operation, in percent.
var mix = []struct {
	op     operation
	weight int
}{
	{opMenu, 35}, {opPage, 20}, {opAction, 15}, {opLaunch, 10}, {opPortal, 10}, {opSlip, 10},
}

// loadOptions shape a load run.
type loadOptions struct {
	base    string        // where requests go: nginx
	workers int           // each one request at a time
	limit   time.Duration // the run stops by itself after this long
	maxOps  int64         // and after this many operations
	apiKey  string        // the key portal sessions are created with
}

// failurePause is how long a worker waits after an operation in which a
// request failed, before its next one.
const failurePause = 100 * time.Millisecond

// maxLoadOps bounds any load run's operations.
const maxLoadOps = 5_000_000

// sample is one request's outcome.
type sample struct {
	kind     string
	at       time.Duration // when it started, since the run started
	dur      time.Duration
	status   int    // 0: transport error
	fail     string // empty when the answer was the expected one; else its class
	detail   string // the error's message, for a failure
	upstream string // nginx's X-Upstream: the node(s) that answered
}

// tracking is what the load saw that a later SQL check compares with the
// database: the visit counts shown, the portal sessions created and
// opened, the slips issued.
type tracking struct {
	visits             map[string][]int64 // user → visit numbers shown
	pagesOK            int                // pages that showed a visit number
	pagesFailed        int                // pages that did not (a visit may or may not have counted)
	portalCreated      map[string]bool    // portal sessions answered 201
	portalCreateFailed int                // creates answered otherwise (may or may not exist)
	portalOpened       map[string]bool    // portal sessions whose link answered 303
	portalOpenFailed   int
	slips              map[string]map[string]int // slip key → nosso número → answers showing it
	slipsOK            int
	slipsFailed        int
	slipKeysTried      map[string]bool
}

// load is a running mixed load.
type load struct {
	c        *cluster
	opts     loadOptions
	client   *http.Client
	start    time.Time
	stopping atomic.Bool
	ops      atomic.Int64
	failed   atomic.Int64 // failed requests so far
	wg       sync.WaitGroup

	mu      sync.Mutex
	samples []sample
	track   tracking
}

// startLoad starts the workers; the run ends by itself after opts.limit
// or opts.maxOps operations, or when stop is called or ctx ends.
func startLoad(ctx context.Context, c *cluster, opts loadOptions) *load {
	if opts.maxOps <= 0 || opts.maxOps > maxLoadOps {
		opts.maxOps = maxLoadOps
	}
	if opts.apiKey == "" {
		opts.apiKey = c.fx.apiKey
	}
	l := &load{c: c, opts: opts, client: newHTTPClient(opts.workers + 4), start: time.Now(),
		track: tracking{visits: map[string][]int64{}, portalCreated: map[string]bool{}, portalOpened: map[string]bool{},
			slips: map[string]map[string]int{}, slipKeysTried: map[string]bool{}}}
	for i := range opts.workers {
		l.wg.Add(1)
		go l.worker(ctx, uint64(i))
	}
	return l
}

// stop asks the workers to finish their current operation and waits.
func (l *load) stop() {
	l.stopping.Store(true)
	l.wg.Wait()
	l.client.CloseIdleConnections()
}

// wait waits for the run to end by itself.
func (l *load) wait() {
	l.wg.Wait()
	l.client.CloseIdleConnections()
}

// since is the time since the run started.
func (l *load) since() time.Duration { return time.Since(l.start) }

func (l *load) worker(ctx context.Context, seed uint64) {
	defer l.wg.Done()
	rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	for !l.stopping.Load() && ctx.Err() == nil && l.since() < l.opts.limit && l.ops.Add(1) <= l.opts.maxOps {
		r := rng.IntN(total)
		var op operation
		for _, m := range mix {
			if r < m.weight {
				op = m.op
				break
			}
			r -= m.weight
		}
		users := l.c.fx.users
		s := users[rng.IntN(len(users))]
		failedBefore := l.failed.Load()
		switch op {
		case opMenu:
			l.menu(ctx, s)
		case opPage:
			l.page(ctx, s)
		case opAction:
			l.action(ctx, s)
		case opLaunch:
			l.launch(ctx, s)
		case opPortal:
			l.portal(ctx, s)
		case opSlip:
			fx := l.c.fx
			l.slip(ctx, fx.parcelas[rng.IntN(len(fx.parcelas))], fx.dates[rng.IntN(len(fx.dates))])
		}
		if l.failed.Load() != failedBefore {
			// Nobody retries within a millisecond: without a pause, fast
			// failures would turn the closed loop into a flood.
			sleep(ctx, failurePause)
		}
	}
}

// send makes a request and records its sample; ok says whether the
// answer is the expected one (a transport error never is). It returns
// the answer and whether it was expected.
func (l *load) send(ctx context.Context, kind string, c call, ok func(answer) (bool, string)) (answer, bool) {
	at := l.since()
	a := do(ctx, l.client, c)
	s := sample{kind: kind, at: at, dur: a.dur, status: a.status, upstream: a.header.Get("X-Upstream")}
	good := false
	switch {
	case a.err == nil:
		var why string
		good, why = ok(a)
		if !good && why != "" {
			s.fail = fmt.Sprintf("%d but %s", a.status, why)
		}
	case a.status != 0:
		// The status line came, the body did not.
		s.fail = fmt.Sprintf("%d, body cut: %s", a.status, transportClass(a.err))
		s.detail = clip(fmt.Sprintf("%v after %d bytes", a.err, len(a.body)), 200)
	}
	if !good && s.fail == "" {
		s.fail, s.detail = a.describe()
	}
	if ctx.Err() != nil && a.err != nil {
		return a, false // the run was interrupted: not the system's failure
	}
	if s.fail != "" {
		l.failed.Add(1)
	}
	l.mu.Lock()
	l.samples = append(l.samples, s)
	l.mu.Unlock()
	return a, good
}

// status returns a check for an expected status.
func status(want int) func(answer) (bool, string) {
	return func(a answer) (bool, string) { return a.status == want, "" }
}

func (l *load) menu(ctx context.Context, s *session) {
	l.send(ctx, kMenu, call{method: "GET", url: l.opts.base + "/api/v1/me/menu", header: s.header()}, func(a answer) (bool, string) {
		if a.status != http.StatusOK {
			return false, ""
		}
		if !bytes.Contains(a.body, []byte(`"entries"`)) {
			return false, "no menu entries"
		}
		return true, ""
	})
}

func (l *load) page(ctx context.Context, s *session) {
	var n int64
	_, ok := l.send(ctx, kPage, call{method: "GET", url: l.opts.base + "/p/ola", header: s.header()}, func(a answer) (bool, string) {
		if a.status != http.StatusOK {
			return false, ""
		}
		var found bool
		if n, found = visitNumber(a.body); !found {
			return false, "no visit count on the page"
		}
		return true, ""
	})
	if ctx.Err() != nil && !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if ok {
		l.track.pagesOK++
		l.track.visits[s.email] = append(l.track.visits[s.email], n)
	} else {
		l.track.pagesFailed++
	}
}

func (l *load) action(ctx context.Context, s *session) {
	body := map[string]any{"form": map[string][]string{"name": {"Carga"}, "color": {"green"}}}
	l.send(ctx, kAction, call{method: "POST", url: l.opts.base + "/api/v1/me/plugins/ola/actions/greet", header: s.header(), body: body},
		func(a answer) (bool, string) {
			if a.status != http.StatusOK {
				return false, ""
			}
			if !bytes.Contains(a.body, []byte(`"tone":"success"`)) {
				return false, "no success message"
			}
			return true, ""
		})
}

func (l *load) launch(ctx context.Context, s *session) {
	var tok string
	_, ok := l.send(ctx, kLaunch, call{method: "GET", url: l.opts.base + "/p/exemplo/launch", header: s.header()}, func(a answer) (bool, string) {
		if a.status != http.StatusOK {
			return false, ""
		}
		var found bool
		if tok, found = launchToken(a.body); !found {
			return false, "no token in the launch page"
		}
		return true, ""
	})
	if !ok {
		return
	}
	cred := l.c.fx.example
	l.send(ctx, kExchange, call{method: "POST", url: l.opts.base + "/api/v1/launch/exchange",
		header: http.Header{"Authorization": {basicAuth(cred.ClientID, cred.ClientSecret)}}, body: map[string]string{"token": tok}},
		func(a answer) (bool, string) {
			if a.status != http.StatusOK {
				return false, ""
			}
			if !bytes.Contains(a.body, []byte(`"role":"cliente"`)) {
				return false, "no user in the exchange"
			}
			return true, ""
		})
}

func (l *load) portal(ctx context.Context, s *session) {
	var ps portalSession
	a, ok := l.send(ctx, kPortal, call{method: "POST", url: l.opts.base + "/api/v1/portal/sessions",
		header: http.Header{"Authorization": {"Bearer " + l.opts.apiKey}}, body: map[string]string{"customer_email": s.email}},
		func(a answer) (bool, string) {
			if a.status != http.StatusCreated {
				return false, ""
			}
			if json.Unmarshal(a.body, &ps) != nil || ps.ID == "" {
				return false, "no portal session in the answer"
			}
			return true, ""
		})
	if ctx.Err() != nil && a.err != nil {
		return
	}
	l.mu.Lock()
	if ok {
		l.track.portalCreated[ps.ID] = true
	} else {
		l.track.portalCreateFailed++
	}
	l.mu.Unlock()
	if !ok {
		return
	}
	path, _ := pathOf(ps.AuthURL)
	a, ok = l.send(ctx, kPortalOpen, call{method: "GET", url: l.opts.base + path}, func(a answer) (bool, string) {
		if a.status != http.StatusSeeOther {
			return false, ""
		}
		if sessionCookie(a.header) == "" {
			return false, "no session cookie"
		}
		return true, ""
	})
	if ctx.Err() != nil && a.err != nil {
		return
	}
	l.mu.Lock()
	if ok {
		l.track.portalOpened[ps.ID] = true
	} else {
		l.track.portalOpenFailed++
	}
	l.mu.Unlock()
}

func (l *load) slip(ctx context.Context, parcela, date string) {
	var ours string
	key := parcela + "|" + date
	body := map[string]any{"form": map[string][]string{"parcela": {parcela}, "vencimento": {date}}}
	a, ok := l.send(ctx, kSlip, call{method: "POST", url: l.opts.base + "/api/v1/me/plugins/financeiro/actions/emitir",
		header: l.c.fx.cliente.header(), body: body}, func(a answer) (bool, string) {
		if a.status != http.StatusOK {
			return false, ""
		}
		var alert string
		var issued bool
		if ours, alert, issued = slipOf(a.body); !issued {
			return false, "no slip: " + clip(alert, 120)
		}
		return true, ""
	})
	if ctx.Err() != nil && a.err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.track.slipKeysTried[key] = true
	if !ok {
		l.track.slipsFailed++
		return
	}
	l.track.slipsOK++
	if l.track.slips[key] == nil {
		l.track.slips[key] = map[string]int{}
	}
	l.track.slips[key][ours]++
}

// kindStats summarises one kind of request (or all of them).
type kindStats struct {
	kind          string
	n, failed     int
	p50, p99, max time.Duration // over the expected answers
	rate          float64       // expected answers per second
}

// summarize computes each kind's figures over the samples that started
// within [from, to) of the run; the rate is over that window.
func summarize(samples []sample, from, to time.Duration) (all kindStats, per []kindStats) {
	window := (to - from).Seconds()
	by := map[string][]time.Duration{}
	fails := map[string]int{}
	var allDur []time.Duration
	allFails := 0
	for _, s := range samples {
		if s.at < from || s.at >= to {
			continue
		}
		if s.fail != "" {
			fails[s.kind]++
			allFails++
			continue
		}
		by[s.kind] = append(by[s.kind], s.dur)
		allDur = append(allDur, s.dur)
	}
	mk := func(kind string, d []time.Duration, failed int) kindStats {
		k := kindStats{kind: kind, n: len(d) + failed, failed: failed}
		slices.Sort(d)
		k.p50, k.p99 = percentile(d, 0.50), percentile(d, 0.99)
		if len(d) > 0 {
			k.max = d[len(d)-1]
		}
		if window > 0 {
			k.rate = float64(len(d)) / window
		}
		return k
	}
	for _, kind := range kindOrder {
		if len(by[kind])+fails[kind] > 0 {
			per = append(per, mk(kind, by[kind], fails[kind]))
		}
	}
	return mk("all", allDur, allFails), per
}

// percentile returns the q-quantile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// failureGroup is one class of failed request.
type failureGroup struct {
	kind, class, detail string
	count               int
	first, last         time.Duration
	upstreams           map[string]int
}

// failures groups the failed samples within [from, to) by kind and class,
// most frequent first.
func failures(samples []sample, from, to time.Duration) []*failureGroup {
	by := map[[2]string]*failureGroup{}
	for _, s := range samples {
		if s.fail == "" || s.at < from || s.at >= to {
			continue
		}
		k := [2]string{s.kind, s.fail}
		g := by[k]
		if g == nil {
			g = &failureGroup{kind: s.kind, class: s.fail, detail: s.detail, first: s.at, upstreams: map[string]int{}}
			by[k] = g
		}
		g.count++
		g.last = max(g.last, s.at)
		g.first = min(g.first, s.at)
		if s.upstream != "" {
			g.upstreams[s.upstream]++
		}
	}
	out := make([]*failureGroup, 0, len(by))
	for _, g := range by {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].count != out[j].count {
			return out[i].count > out[j].count
		}
		return out[i].kind+out[i].class < out[j].kind+out[j].class
	})
	return out
}

// snapshot returns a copy of the samples so far.
func (l *load) snapshot() []sample {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.samples)
}
