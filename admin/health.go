package admin

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/internal/storage"
)

// A wasm plugin's health as the admin shows it: the whole installation.
// Each node's runtime counts its own calls; every node publishes its
// counts to the database every few seconds (host/server, health.go). The
// admin merges this node's live counts, read from its engine, with every
// other node's last publication (storage.PluginHealthOf). The circuit
// breaker stays per node on purpose (docs/design.md, "Plugin health
// across nodes"); the health says on which nodes it is open.

// Bounds of the merged lists.
const (
	MaxHealthErrors = 50  // last errors of all nodes, newest first
	MaxHealthLogs   = 200 // log lines of all nodes, newest first
)

// Health is a wasm plugin's health across the installation.
type Health struct {
	// Available is false when this node runs no wasm runtime; the other
	// nodes' publications are still merged.
	Available bool
	// Calls and Errors are the sums over the nodes.
	Calls, Errors int64
	// P50 and P95 are the largest of the nodes' own percentiles (the
	// slowest node's): percentiles of different nodes cannot be added.
	P50, P95 time.Duration
	// Paused is true when the breaker is open on at least one node;
	// PausedUntil is the latest time one of them closes.
	Paused      bool
	PausedUntil time.Time
	LastErrors  []NodeError // of every node, newest first, at most MaxHealthErrors
	Logs        []NodeLog   // of every node, newest first, at most MaxHealthLogs
	// Nodes are the nodes that ran the plugin: this node first, then the
	// others by name.
	Nodes []NodeHealth
	// Partial is true when the other nodes' health could not be read (the
	// database failed): only this node's is shown.
	Partial bool
}

// NodeHealth is one node's share of a plugin's health.
type NodeHealth struct {
	// ID is the node's random ID (storage.Store.Node), Host its hostname,
	// Name both as a person reads them ("web-1 · 4KQ2MZ7T").
	ID, Host, Name string
	// This is true for the node that answers.
	This          bool
	Calls, Errors int64
	P50, P95      time.Duration
	Paused        bool
	PausedUntil   time.Time
	// UpdatedAt is when the node last published (zero for this node,
	// whose numbers are live).
	UpdatedAt time.Time
}

// NodeError is one failed call and the node it failed on.
type NodeError struct {
	sandbox.ErrorEntry
	Node string // NodeHealth.Name
}

// NodeLog is one log line and the node it was logged on.
type NodeLog struct {
	sandbox.LogEntry
	Node string // NodeHealth.Name
}

// NodeName is how a node is shown: its hostname and the first 8
// characters of its ID, which tell apart two processes on one host.
func NodeName(host, id string) string {
	if len(id) > 8 {
		id = id[:8]
	}
	if host == "" {
		return id
	}
	return host + " · " + id
}

// PluginHealth returns the health of the tenant's plugin across the
// installation: engine's live counts as this node's (none when engine is
// nil) and the other nodes' publications from store. A failed read of
// the publications is not an error: the answer is then this node's alone,
// marked Partial, and err says why (for the log).
func PluginHealth(ctx context.Context, store *storage.Store, engine *sandbox.Engine, tenantID, pluginID string) (Health, error) {
	others, err := store.PluginHealthOf(ctx, tenantID, pluginID)
	var live *sandbox.Health
	if engine != nil {
		h := engine.Health(tenantID, pluginID)
		live = &h
	}
	h := MergeHealth(store.Node(), store.NodeHost(), live, others, store.Now())
	h.Partial = err != nil
	return h, err
}

// MergeHealth merges this node's live health (nil: no runtime here) with
// the nodes' publications. The publication of this node itself (node) is
// skipped: the live numbers are fresher. now decides whether a published
// breaker is still open.
func MergeHealth(node, host string, live *sandbox.Health, published []storage.PluginHealth, now time.Time) Health {
	out := Health{Available: live != nil}
	if live != nil {
		this := NodeHealth{ID: node, Host: host, Name: NodeName(host, node), This: true, Calls: live.Calls, Errors: live.Errors,
			P50: live.P50, P95: live.P95, Paused: live.Paused, PausedUntil: live.PausedUntil}
		if !this.Paused {
			this.PausedUntil = time.Time{}
		}
		out.add(this)
		for _, e := range live.LastErrors {
			out.LastErrors = append(out.LastErrors, NodeError{ErrorEntry: e, Node: this.Name})
		}
		for _, l := range live.Logs {
			out.Logs = append(out.Logs, NodeLog{LogEntry: l, Node: this.Name})
		}
	}
	var others []NodeHealth
	for _, p := range published {
		if p.NodeID == node {
			continue
		}
		n := NodeHealth{ID: p.NodeID, Host: p.NodeHost, Name: NodeName(p.NodeHost, p.NodeID), Calls: p.Calls, Errors: p.Errors,
			P50: p.P50, P95: p.P95, UpdatedAt: p.UpdatedAt}
		if now.Before(p.BreakerOpenUntil) {
			n.Paused, n.PausedUntil = true, p.BreakerOpenUntil
		}
		others = append(others, n)
		for _, e := range p.LastErrors {
			out.LastErrors = append(out.LastErrors, NodeError{ErrorEntry: sandbox.ErrorEntry{At: e.At, Reason: e.Reason, Detail: e.Detail}, Node: n.Name})
		}
		for _, l := range p.Logs {
			out.Logs = append(out.Logs, NodeLog{LogEntry: sandbox.LogEntry{At: l.At, Level: l.Level, Message: l.Message, Attrs: l.Attrs}, Node: n.Name})
		}
	}
	slices.SortFunc(others, func(a, b NodeHealth) int { return cmp.Or(cmp.Compare(a.Host, b.Host), cmp.Compare(a.ID, b.ID)) })
	for _, n := range others {
		out.add(n)
	}
	// Newest first; a stable sort keeps each node's own order among equal
	// times.
	slices.SortStableFunc(out.LastErrors, func(a, b NodeError) int { return b.At.Compare(a.At) })
	slices.SortStableFunc(out.Logs, func(a, b NodeLog) int { return b.At.Compare(a.At) })
	out.LastErrors = out.LastErrors[:min(len(out.LastErrors), MaxHealthErrors)]
	out.Logs = out.Logs[:min(len(out.Logs), MaxHealthLogs)]
	return out
}

// add counts node n into the totals.
func (h *Health) add(n NodeHealth) {
	h.Nodes = append(h.Nodes, n)
	h.Calls += n.Calls
	h.Errors += n.Errors
	h.P50, h.P95 = max(h.P50, n.P50), max(h.P95, n.P95)
	if n.Paused {
		h.Paused = true
		if n.PausedUntil.After(h.PausedUntil) {
			h.PausedUntil = n.PausedUntil
		}
	}
}

// PausedNodes names the nodes whose breaker is open.
func (h *Health) PausedNodes() []string {
	var out []string
	for _, n := range h.Nodes {
		if n.Paused {
			out = append(out, n.Name)
		}
	}
	return out
}
