package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// seenLimit is how long node B may take to show a change before the
// harness gives up on it (and counts it as not seen).
const seenLimit = 5 * time.Second

// runInvalidation makes changes through node A's admin API and polls node
// B directly until it serves them, under a background load.
func runInvalidation(ctx context.Context, c *cluster) (*result, error) {
	res := newResult(c, "invalidation", fmt.Sprintf("While a background load (%d workers) runs through nginx, %d changes are made through node A's admin API, "+
		"alternately the plugins' menu order (reversed) and a customer's roles (síndico added or removed); after each, node B is asked directly, "+
		"every millisecond or so, until it serves the new state. Before each change B has served (and cached) the old one. "+
		"The lag is measured from A's answer (the change committed) and from the moment the change was sent.",
		max(1, c.cfg.concurrency/2), c.cfg.changes))
	bg := startLoad(ctx, c, loadOptions{base: c.nginx.base(), workers: max(1, c.cfg.concurrency/2), limit: 30 * time.Minute})
	defer bg.stop()
	fx := c.fx
	a, b := c.nodes[0], c.nodes[1]
	client := newHTTPClient(4)
	defer client.CloseIdleConnections()
	target, err := c.portalLogin(ctx, fx, fx.apiKey, "invalidacao-"+c.runID+"@cluster.portico.test", "Invalidação")
	if err != nil {
		return res, err
	}
	var user struct {
		Roles   []string `json:"roles"`
		Version int64    `json:"version"`
	}
	if _, err := c.admin(ctx, fx, a.base(), "GET", "/users/"+target.userID, nil, &user); err != nil {
		return res, err
	}
	menuFirst := func() (string, int) {
		r := do(ctx, client, call{method: "GET", url: b.base() + "/api/v1/me/menu?role=cliente", header: target.header()})
		var m struct {
			Entries []struct {
				Slug string `json:"slug"`
			} `json:"entries"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &m) != nil || len(m.Entries) == 0 {
			return "", r.status
		}
		return m.Entries[0].Slug, r.status
	}
	roles := func() ([]string, int) {
		r := do(ctx, client, call{method: "GET", url: b.base() + "/api/v1/me", header: target.header()})
		var me struct {
			Roles []string `json:"roles"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &me) != nil {
			return nil, r.status
		}
		slices.Sort(me.Roles)
		return me.Roles, r.status
	}
	type lag struct{ fromAnswer, fromSend time.Duration }
	var order, role []lag
	notSeen := map[string]int{}
	for i := range c.cfg.changes {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		var seen func() bool
		var sent, answered time.Time
		kind := "plugin order"
		if i%2 == 0 {
			old, st := menuFirst()
			if old == "" {
				return res, fmt.Errorf("menu on node b: status %d", st)
			}
			var list struct {
				Plugins []struct {
					Slug string `json:"slug"`
				} `json:"plugins"`
			}
			if _, err := c.admin(ctx, fx, a.base(), "GET", "/plugins", nil, &list); err != nil {
				return res, err
			}
			slugs := make([]string, 0, len(list.Plugins))
			for j := len(list.Plugins) - 1; j >= 0; j-- {
				slugs = append(slugs, list.Plugins[j].Slug)
			}
			sent = time.Now()
			if _, err := c.admin(ctx, fx, a.base(), "PUT", "/plugins/order", map[string]any{"slugs": slugs}, nil); err != nil {
				return res, err
			}
			answered = time.Now()
			seen = func() bool { f, _ := menuFirst(); return f != "" && f != old }
		} else {
			kind = "roles"
			if _, st := roles(); st != http.StatusOK {
				return res, fmt.Errorf("GET /api/v1/me on node b: status %d", st)
			}
			want := []string{"cliente", "sindico"}
			if slices.Contains(user.Roles, "sindico") {
				want = []string{"cliente"}
			}
			sent = time.Now()
			if _, err := c.admin(ctx, fx, a.base(), "PATCH", "/users/"+target.userID, map[string]any{"version": user.Version, "roles": want}, &user); err != nil {
				return res, err
			}
			answered = time.Now()
			seen = func() bool { r, _ := roles(); return slices.Equal(r, want) }
		}
		ok := false
		for time.Since(answered) < seenLimit {
			if seen() {
				ok = true
				break
			}
			time.Sleep(time.Millisecond)
		}
		now := time.Now()
		if !ok {
			notSeen[kind]++
			continue
		}
		l := lag{now.Sub(answered), now.Sub(sent)}
		if kind == "roles" {
			role = append(role, l)
		} else {
			order = append(order, l)
		}
	}
	bg.stop()
	t := &table{header: []string{"change", "changes", "p50 (from A's answer)", "p99", "max", "p50 (from sending)", "p99 (from sending)", "not seen within 5 s"}}
	var all []lag
	row := func(name string, ls []lag, missed int) (p99 time.Duration) {
		from := make([]time.Duration, len(ls))
		sentD := make([]time.Duration, len(ls))
		for i, l := range ls {
			from[i], sentD[i] = l.fromAnswer, l.fromSend
		}
		slices.Sort(from)
		slices.Sort(sentD)
		var mx time.Duration
		if len(from) > 0 {
			mx = from[len(from)-1]
		}
		t.add(name, fmt.Sprint(len(ls)+missed), ms(percentile(from, 0.5)), ms(percentile(from, 0.99)), ms(mx),
			ms(percentile(sentD, 0.5)), ms(percentile(sentD, 0.99)), fmt.Sprint(missed))
		return percentile(from, 0.99)
	}
	row("plugin order", order, notSeen["plugin order"])
	row("roles", role, notSeen["roles"])
	all = append(append(all, order...), role...)
	p99 := row("**all**", all, notSeen["plugin order"]+notSeen["roles"])
	res.addTable("Change on node A → served by node B", t)
	res.addText("", "B is polled in a loop, one request at a time: a lag includes up to one poll's round trip, about a millisecond on loopback (more under load).")
	if f := failures(bg.snapshot(), 0, time.Hour); len(f) > 0 {
		res.addTable("Background load: failed requests", failureTable(f))
	}
	missed := notSeen["plugin order"] + notSeen["roles"]
	res.check("every change seen on B", missed == 0, "%d of %d not seen within %s", missed, c.cfg.changes, seenLimit)
	res.check("p99 ≤ 1 s", missed == 0 && p99 <= time.Second, "p99 %s over %d changes", ms(p99), len(all))
	return res, nil
}
