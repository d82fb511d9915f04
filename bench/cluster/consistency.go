package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// loadKey creates an API key (scope portal_sessions) for one load run
// through node A's admin API, so the portal sessions that run creates can
// be told apart in the database.
func (c *cluster) loadKey(ctx context.Context, name string) (key, id string, err error) {
	var k struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if _, err := c.admin(ctx, c.fx, c.nodes[0].base(), "POST", "/api-keys", map[string]any{"name": name, "scopes": []string{"portal_sessions"}}, &k); err != nil {
		return "", "", err
	}
	if k.Key == "" || k.ID == "" {
		return "", "", fmt.Errorf("create API key %q: no key in the answer", name)
	}
	return k.Key, k.ID, nil
}

// dbSnapshot is what the database and the fake ERP held before a load
// run, for the consistency checks after it.
type dbSnapshot struct {
	visits int64 // the hello plugin's visit counters, summed
	slipKV int64 // slips the finance plugin recorded in its KV store
	erp    erpStats
}

const (
	visitsSQL = `SELECT coalesce(sum(convert_from(k.value, 'UTF8')::bigint), 0) FROM plugin_kv k
		JOIN plugins p ON p.id = k.plugin_id WHERE p.slug = 'ola' AND k.key LIKE 'visits:%'`
	slipsSQL = `SELECT count(*) FROM plugin_kv k JOIN plugins p ON p.id = k.plugin_id
		WHERE p.slug = 'financeiro' AND k.key LIKE 'slip:%'`
)

// connectRetry connects to the cluster's database, retrying for up to a
// minute (PostgreSQL may just have come back).
func (c *cluster) connectRetry(ctx context.Context) (*pgx.Conn, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		conn, err := c.connectDB(ctx)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return conn, err
		}
		time.Sleep(time.Second)
	}
}

func (c *cluster) snapshotDB(ctx context.Context) (dbSnapshot, error) {
	var s dbSnapshot
	conn, err := c.connectRetry(ctx)
	if err != nil {
		return s, err
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, visitsSQL).Scan(&s.visits); err != nil {
		return s, fmt.Errorf("read visit counters: %w", err)
	}
	if err := conn.QueryRow(ctx, slipsSQL).Scan(&s.slipKV); err != nil {
		return s, fmt.Errorf("count recorded slips: %w", err)
	}
	if s.erp, err = c.erpStats(); err != nil {
		return s, fmt.Errorf("fake ERP stats: %w", err)
	}
	return s, nil
}

// checkConsistency compares what the load was told with what the
// database (and the fake ERP) hold: nothing a successful answer reported
// may be missing, nothing may be there twice, and anything there that no
// successful answer reported must be explained by a failed request.
func (c *cluster) checkConsistency(ctx context.Context, res *result, l *load, before dbSnapshot, keyID string) error {
	after, err := c.snapshotDB(ctx)
	if err != nil {
		return err
	}
	conn, err := c.connectRetry(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	l.mu.Lock()
	tr := l.track
	l.mu.Unlock()

	// Portal sessions and their audit entries.
	rows, err := conn.Query(ctx, `SELECT s.id, s.opened_at IS NOT NULL,
			(SELECT count(*) FROM audit_log a WHERE a.target_type = 'portal_session' AND a.target_id = s.id AND a.action = 'portal_session.create'),
			(SELECT count(*) FROM audit_log a WHERE a.target_type = 'portal_session' AND a.target_id = s.id AND a.action = 'portal_session.open')
		FROM portal_sessions s WHERE s.api_key_id = $1`, keyID)
	if err != nil {
		return fmt.Errorf("read portal sessions: %w", err)
	}
	inDB := map[string]bool{}
	var createAudit, openAudit [3]int // 0, 1, 2+ entries
	var openedInDB, openedUnacked, createdUnacked, badOpenAudit int
	for rows.Next() {
		var id string
		var opened bool
		var nc, no int
		if err := rows.Scan(&id, &opened, &nc, &no); err != nil {
			rows.Close()
			return err
		}
		inDB[id] = true
		createAudit[min(nc, 2)]++
		if opened {
			openedInDB++
			openAudit[min(no, 2)]++
			if !tr.portalOpened[id] {
				openedUnacked++
			}
		} else if no != 0 {
			badOpenAudit++
		}
		if !tr.portalCreated[id] {
			createdUnacked++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	lostCreates, lostOpens := 0, 0
	for id := range tr.portalCreated {
		if !inDB[id] {
			lostCreates++
		}
	}
	for id := range tr.portalOpened {
		if !inDB[id] {
			lostOpens++
		}
	}
	t := &table{header: []string{"record", "successful answers", "in the database", "without a successful answer (failed requests that may have committed)", "lost", "duplicated"}}
	t.add("portal sessions created", fmt.Sprint(len(tr.portalCreated)), fmt.Sprint(len(inDB)),
		fmt.Sprintf("%d (of %d failed creates)", createdUnacked, tr.portalCreateFailed), fmt.Sprint(lostCreates), "–")
	t.add("their audit entries (portal_session.create)", "–", fmt.Sprintf("%d with one entry", createAudit[1]), "–",
		fmt.Sprintf("%d sessions without one", createAudit[0]), fmt.Sprintf("%d sessions with two or more", createAudit[2]))
	t.add("portal sessions opened (link used)", fmt.Sprint(len(tr.portalOpened)), fmt.Sprint(openedInDB),
		fmt.Sprintf("%d (of %d failed opens)", openedUnacked, tr.portalOpenFailed), fmt.Sprint(lostOpens), "–")
	t.add("their audit entries (portal_session.open)", "–", fmt.Sprintf("%d with one entry", openAudit[1]), "–",
		fmt.Sprintf("%d opened without one", openAudit[0]), fmt.Sprintf("%d with two or more (+%d on unopened sessions)", openAudit[2], badOpenAudit))

	// Visit counters (the hello plugin's KV increments).
	dupVisits := 0
	for _, ns := range tr.visits {
		s := slices.Clone(ns)
		slices.Sort(s)
		dupVisits += len(s) - len(slices.Compact(s))
	}
	delta := after.visits - before.visits
	extra := delta - int64(tr.pagesOK)
	t.add("visits counted (KV increments)", fmt.Sprint(tr.pagesOK), fmt.Sprintf("+%d", delta),
		fmt.Sprintf("%d (of %d failed pages)", extra, tr.pagesFailed), fmt.Sprint(max(0, -extra)), fmt.Sprintf("%d visit numbers shown twice", dupVisits))

	// Slips: one nosso número per slip key, and the ERP registered no
	// more slips than the keys asked for.
	keysTwice := 0
	for _, nums := range tr.slips {
		if len(nums) > 1 {
			keysTwice++
		}
	}
	regs := after.erp.Registrations - before.erp.Registrations
	recorded := after.slipKV - before.slipKV
	t.add("segundas vias issued", fmt.Sprintf("%d answers over %d slips", tr.slipsOK, len(tr.slips)),
		fmt.Sprintf("%d new in the ERP, %d newly recorded by the plugin", regs, recorded),
		fmt.Sprintf("%d failed issues", tr.slipsFailed), "–", fmt.Sprintf("%d slips shown with two nossos números", keysTwice))
	res.addTable("Consistency: what the load was told against the database", t)

	res.check("no portal session lost or left unaudited", lostCreates == 0 && lostOpens == 0 && createAudit[0] == 0 && openAudit[0] == 0,
		"%d created and %d opened sessions missing; %d without a create entry, %d opened without an open entry", lostCreates, lostOpens, createAudit[0], openAudit[0])
	res.check("no audit entry duplicated", createAudit[2] == 0 && openAudit[2] == 0 && badOpenAudit == 0,
		"%d create and %d open entries twice or more, %d open entries on unopened sessions", createAudit[2], openAudit[2], badOpenAudit)
	res.check("records without a successful answer come from failed requests", createdUnacked <= tr.portalCreateFailed && openedUnacked <= tr.portalOpenFailed,
		"%d unacknowledged creates (%d failed), %d unacknowledged opens (%d failed)", createdUnacked, tr.portalCreateFailed, openedUnacked, tr.portalOpenFailed)
	res.check("visit counter: no increment lost or duplicated", extra >= 0 && extra <= int64(tr.pagesFailed) && dupVisits == 0,
		"+%d for %d pages shown (%d failed), %d numbers shown twice", delta, tr.pagesOK, tr.pagesFailed, dupVisits)
	res.check("no slip issued twice", keysTwice == 0 && regs <= len(tr.slipKeysTried),
		"%d slips with two numbers; %d registrations for %d slip keys tried", keysTwice, regs, len(tr.slipKeysTried))
	// Every slip shown to a customer was registered (the ERP starts empty
	// for the run: freshSlips), and one registered but not recorded by the
	// plugin must come from a failed issue.
	res.check("no slip lost", regs >= len(tr.slips) && recorded <= int64(regs) && int64(regs)-recorded <= int64(tr.slipsFailed),
		"%d slips shown, %d registered, %d recorded by the plugin, %d failed issues", len(tr.slips), regs, recorded, tr.slipsFailed)
	return nil
}

// logMark is where a log file ended at some moment.
type logMark map[string]int64

func markLogs(paths ...string) logMark {
	m := logMark{}
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			m[p] = fi.Size()
		}
	}
	return m
}

// since returns what path gained after the mark.
func (m logMark) since(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(m[path], io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, 64<<20))
	return string(b)
}

// nodeLogLines returns the lines of each node's log written since the
// mark that contain any of needles, at most limit per node, and how many
// there were.
func (c *cluster) nodeLogLines(m logMark, limit int, needles ...string) (lines []string, count map[string]int) {
	count = map[string]int{}
	for _, n := range c.nodes {
		shown := 0
		for _, line := range strings.Split(m.since(n.logPath), "\n") {
			for _, nd := range needles {
				if strings.Contains(line, nd) {
					count[n.name]++
					if shown < limit {
						lines = append(lines, "node "+n.name+": "+clip(line, 400))
						shown++
					}
					break
				}
			}
		}
	}
	return lines, count
}

// nginxErrors counts the nginx error log's lines since the mark by kind:
// each is a request nginx could not complete on one node (and, for an
// idempotent request, tried on the next).
func (c *cluster) nginxErrors(m logMark) map[string]int {
	out := map[string]int{}
	kinds := []struct{ needle, name string }{
		{"no live upstreams", "no live upstreams"},
		{"connect() failed", "connect() failed (node not listening)"},
		{"prematurely closed", "upstream prematurely closed the connection"},
		{"reset by peer", "connection reset by the node"},
		{"timed out", "timed out"},
		{"left in connection", "old worker exited with a connection still open (after a reload)"},
		{"aborting", "old worker aborting (after a reload)"},
		{"temporarily disabled", "node taken out of rotation for fail_timeout (max_fails reached)"},
	}
	for _, line := range strings.Split(m.since(c.nginx.errorLog()), "\n") {
		if !strings.Contains(line, "[error]") && !strings.Contains(line, "[warn]") && !strings.Contains(line, "[alert]") {
			continue
		}
		name := "other"
		for _, k := range kinds {
			if strings.Contains(line, k.needle) {
				name = k.name
				break
			}
		}
		out[name]++
	}
	return out
}

// checkedLoad is a load whose effects are compared with the database
// afterwards (checkConsistency): the API key it uses, the database and the
// logs as they were before it started.
type checkedLoad struct {
	load   *load
	keyID  string
	before dbSnapshot
	marks  logMark
}

// startCheckedLoad starts the mixed load through nginx after recording
// what checkConsistency and the log reports compare against: a fresh API
// key named name, fresh slips, a snapshot of the database and the nodes'
// and nginx's log positions.
func (c *cluster) startCheckedLoad(ctx context.Context, name string) (*checkedLoad, error) {
	key, keyID, err := c.loadKey(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := c.freshSlips(ctx); err != nil {
		return nil, err
	}
	before, err := c.snapshotDB(ctx)
	if err != nil {
		return nil, err
	}
	var logs []string
	for _, n := range c.nodes {
		logs = append(logs, n.logPath)
	}
	marks := markLogs(append(logs, c.nginx.errorLog())...)
	l := startLoad(ctx, c, loadOptions{base: c.nginx.base(), workers: c.cfg.concurrency, limit: 30 * time.Minute, apiKey: key})
	return &checkedLoad{load: l, keyID: keyID, before: before, marks: marks}, nil
}
