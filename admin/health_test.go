package admin_test

import (
	"testing"
	"time"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/internal/storage"
)

// TestMergeHealth: totals are sums, percentiles the slowest node's; this
// node's live numbers replace its own publication; a published breaker
// counts only until it closes; errors and lines of every node are merged
// newest first, named, and bounded.
func TestMergeHealth(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return now.Add(time.Duration(s) * time.Second) }
	live := &sandbox.Health{Calls: 10, Errors: 1, P50: 2 * time.Millisecond, P95: 9 * time.Millisecond,
		LastErrors: []sandbox.ErrorEntry{{At: at(-5), Reason: "timeout"}},
		Logs:       []sandbox.LogEntry{{At: at(-1), Message: "a1"}, {At: at(-30), Message: "a2"}}}
	published := []storage.PluginHealth{
		{NodeID: "THISNODE00000000", NodeHost: "web-a", Calls: 1}, // stale copy of this node: ignored
		{NodeID: "ZZZZZZZZ11111111", NodeHost: "web-c", Calls: 4, Errors: 4, P50: 5 * time.Millisecond, P95: 6 * time.Millisecond,
			BreakerOpenUntil: at(20), UpdatedAt: at(-3),
			LastErrors: []storage.HealthError{{At: at(-2), Reason: "trap"}, {At: at(-10), Reason: "trap"}}},
		{NodeID: "BBBBBBBB22222222", NodeHost: "web-b", Calls: 6, P50: time.Millisecond, P95: 30 * time.Millisecond,
			BreakerOpenUntil: at(-1), UpdatedAt: at(-4), // closed since
			Logs: []storage.HealthLog{{At: at(-20), Message: "b1"}}},
	}
	h := admin.MergeHealth("THISNODE00000000", "web-a", live, published, now)
	if !h.Available || h.Calls != 20 || h.Errors != 5 || h.P50 != 5*time.Millisecond || h.P95 != 30*time.Millisecond {
		t.Errorf("totals: %+v", h)
	}
	if !h.Paused || !h.PausedUntil.Equal(at(20)) {
		t.Errorf("breaker: paused %v until %v", h.Paused, h.PausedUntil)
	}
	var names []string
	for _, n := range h.Nodes {
		names = append(names, n.Name)
	}
	if len(h.Nodes) != 3 || !h.Nodes[0].This || h.Nodes[0].Calls != 10 || names[0] != "web-a · THISNODE" ||
		names[1] != "web-b · BBBBBBBB" || names[2] != "web-c · ZZZZZZZZ" || h.Nodes[1].Paused || !h.Nodes[2].Paused {
		t.Errorf("nodes: %+v", h.Nodes)
	}
	if p := h.PausedNodes(); len(p) != 1 || p[0] != "web-c · ZZZZZZZZ" {
		t.Errorf("paused nodes %v", p)
	}
	wantErrors := []string{"web-c · ZZZZZZZZ", "web-a · THISNODE", "web-c · ZZZZZZZZ"}
	if len(h.LastErrors) != 3 {
		t.Fatalf("errors: %+v", h.LastErrors)
	}
	for i, e := range h.LastErrors {
		if e.Node != wantErrors[i] {
			t.Errorf("error %d on %s, want %s", i, e.Node, wantErrors[i])
		}
	}
	if len(h.Logs) != 3 || h.Logs[0].Message != "a1" || h.Logs[1].Message != "b1" || h.Logs[1].Node != "web-b · BBBBBBBB" || h.Logs[2].Message != "a2" {
		t.Errorf("logs: %+v", h.Logs)
	}

	// No runtime here: the others still count; nothing published and no
	// runtime: nothing at all.
	if h := admin.MergeHealth("THISNODE00000000", "web-a", nil, published, now); h.Available || h.Calls != 10 || len(h.Nodes) != 2 {
		t.Errorf("without a runtime: %+v", h)
	}
	if h := admin.MergeHealth("N", "h", nil, nil, now); h.Calls != 0 || len(h.Nodes) != 0 || h.Paused {
		t.Errorf("nothing: %+v", h)
	}

	// Bounds of the merged lists.
	many := make([]storage.PluginHealth, 10)
	for i := range many {
		many[i] = storage.PluginHealth{NodeID: string(rune('A'+i)) + "0000000", UpdatedAt: now}
		for j := range storage.PluginHealthMaxErrors {
			many[i].LastErrors = append(many[i].LastErrors, storage.HealthError{At: at(-j)})
		}
		for j := range storage.PluginHealthMaxLogs {
			many[i].Logs = append(many[i].Logs, storage.HealthLog{At: at(-j)})
		}
	}
	if h := admin.MergeHealth("N", "h", live, many, now); len(h.LastErrors) != admin.MaxHealthErrors || len(h.Logs) != admin.MaxHealthLogs {
		t.Errorf("merged %d errors and %d lines", len(h.LastErrors), len(h.Logs))
	}
}
