package storage

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portico-dev/portico/internal/clip"
	"github.com/portico-dev/portico/sdk/abi"
)

// Published plugin health (table plugin_health, migration 00012). Each
// node's wasm runtime keeps its plugins' health in memory; the node
// publishes it here every few seconds (host/server) so that the admin of
// any node can show the whole installation: this node's numbers from its
// runtime, every other node's from here.

// PluginHealthStale is how long a node's published health counts after
// the node last wrote or refreshed it. Older rows belong to a node that
// stopped, or lost the database, and are neither read
// (PluginHealthOf, TenantPluginHealth) nor kept (SweepPluginHealth). The
// nodes' clocks must agree well within it (NTP), as they already must for
// sessions and tokens.
const PluginHealthStale = 2 * time.Minute

// Bounds of one node's published health of one plugin.
// PublishPluginHealth applies them when it writes, and the reads apply them
// again to what they decode, whoever wrote the row.
const (
	PluginHealthMaxErrors = 20   // last errors, newest first
	PluginHealthMaxLogs   = 50   // last log lines, newest first
	PluginHealthMaxText   = 1024 // bytes of an error's detail, a log line's message, an attribute's value
	PluginHealthMaxWord   = 64   // bytes of a reason, a level, an attribute's name, a hostname
	PluginHealthMaxAttrs  = abi.MaxLogAttrs
	PluginHealthMaxJSON   = 64 << 10 // bytes of each JSON list: the oldest entries are left out to fit
)

// PluginHealth is one node's health of one wasm plugin as it published it.
type PluginHealth struct {
	// NodeID is the publishing node (Store.Node), NodeHost the name the
	// operator gave it (Store.NodeHost; never the machine's hostname).
	NodeID, NodeHost   string
	TenantID, PluginID string
	Calls, Errors      int64
	// P50 and P95 are the node's own percentiles (over its recent calls),
	// stored in milliseconds with microsecond precision.
	P50, P95   time.Duration
	LastErrors []HealthError // newest first
	Logs       []HealthLog   // newest first
	// BreakerOpenUntil is when the node's circuit breaker of the plugin
	// closes; zero when it was closed at publication.
	BreakerOpenUntil time.Time
	// UpdatedAt is when the node last published or refreshed the row.
	UpdatedAt time.Time
}

// HealthError is one failed call in a published health.
type HealthError struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	Detail string    `json:"detail"`
}

// HealthLog is one line a plugin logged, in a published health.
type HealthLog struct {
	At      time.Time         `json:"at"`
	Level   string            `json:"level"`
	Message string            `json:"message"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

type pluginHealthRow struct {
	TenantID         string `gorm:"primaryKey"`
	PluginID         string `gorm:"primaryKey"`
	NodeID           string `gorm:"primaryKey"`
	NodeHost         string
	Calls            int64
	Errors           int64
	P50MS            float64 `gorm:"column:p50_ms"`
	P95MS            float64 `gorm:"column:p95_ms"`
	LastErrors       string
	Logs             string
	BreakerOpenUntil *time.Time
	UpdatedAt        time.Time
}

func (pluginHealthRow) TableName() string { return "plugin_health" }

// Node is this store's node ID: random per process (per Store), the name
// it publishes its plugins' health under and the one its change
// listener's connection carries (application_name).
func (s *Store) Node() string { return s.node }

// NodeHost is the name the operator gave this node (PORTICO_NODE_NAME,
// SetNodeName), published with its health; "" when none, and the node is
// then shown by its ID alone. The machine's hostname is never published:
// every tenant's gestor sees these names.
func (s *Store) NodeHost() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodeName
}

// SetNodeName sets NodeHost (cut to PluginHealthMaxWord bytes).
func (s *Store) SetNodeName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodeName = clip.Bytes(strings.TrimSpace(name), PluginHealthMaxWord)
}

// PublishPluginHealth writes this node's health of each plugin in hs (one
// row per plugin, replacing the previous one) in one transaction, under
// Store.Node and NodeHost, with UpdatedAt now; the fields NodeID, NodeHost
// and UpdatedAt of hs are ignored. Lists and texts are cut to the bounds
// above. A plugin that is not a live plugin of its tenant (deleted since
// it ran) is left out.
func (s *Store) PublishPluginHealth(ctx context.Context, hs []PluginHealth) error {
	// One row per plugin: the last of hs wins (a statement may not update
	// one row twice).
	byKey := make(map[[2]string]int, len(hs))
	for i, h := range hs {
		byKey[[2]string{h.TenantID, h.PluginID}] = i
	}
	if len(byKey) == 0 {
		return nil
	}
	now := s.Now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// In key order, so that concurrent writers lock rows alike.
		keys := slices.SortedFunc(maps.Keys(byKey), func(a, b [2]string) int {
			return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
		})
		for chunk := range slices.Chunk(keys, publishBatch) {
			if err := s.publishHealthBatch(tx, now, chunk, func(k [2]string) *PluginHealth { return &hs[byKey[k]] }); err != nil {
				return err
			}
		}
		return nil
	})
	return translate(err, "publish plugin health")
}

// publishBatch bounds the rows of one statement (12 parameters each;
// PostgreSQL allows 65,535 parameters).
const publishBatch = 500

func (s *Store) publishHealthBatch(tx *gorm.DB, now time.Time, keys [][2]string, health func([2]string) *PluginHealth) error {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k[1]
	}
	var live []struct{ ID, TenantID string }
	if err := tx.Table("plugins").Select("id, tenant_id").Where("id IN ? AND deleted_at IS NULL", ids).Find(&live).Error; err != nil {
		return err
	}
	exists := make(map[[2]string]bool, len(live))
	for _, p := range live {
		exists[[2]string{p.TenantID, p.ID}] = true
	}
	rows := make([]pluginHealthRow, 0, len(keys))
	for _, k := range keys {
		if !exists[k] {
			continue
		}
		h := health(k)
		r := pluginHealthRow{TenantID: h.TenantID, PluginID: h.PluginID, NodeID: s.node, NodeHost: s.NodeHost(),
			Calls: h.Calls, Errors: h.Errors, P50MS: millis(h.P50), P95MS: millis(h.P95),
			LastErrors: encodeHealthList(h.LastErrors, PluginHealthMaxErrors, clipHealthError),
			Logs:       encodeHealthList(h.Logs, PluginHealthMaxLogs, clipHealthLog), UpdatedAt: now}
		if !h.BreakerOpenUntil.IsZero() {
			t := h.BreakerOpenUntil.UTC()
			r.BreakerOpenUntil = &t
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return nil
	}
	return tx.Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "tenant_id"}, {Name: "plugin_id"}, {Name: "node_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"node_host", "calls", "errors", "p50_ms", "p95_ms",
			"last_errors", "logs", "breaker_open_until", "updated_at"}),
	}).Create(&rows).Error
}

// RefreshPluginHealth marks every row this node published as current
// (UpdatedAt now) without rewriting it: a node whose plugins are idle
// calls it well within PluginHealthStale so that its rows are not taken
// for a gone node's. Rows of deleted plugins are not refreshed, so the
// sweep removes them. It returns how many rows it refreshed.
func (s *Store) RefreshPluginHealth(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Exec(
		"UPDATE plugin_health SET updated_at = ? WHERE node_id = ? AND plugin_id IN (SELECT id FROM plugins WHERE deleted_at IS NULL)",
		s.Now(), s.node)
	if res.Error != nil {
		return 0, translate(res.Error, "refresh plugin health")
	}
	return res.RowsAffected, nil
}

// SweepPluginHealth deletes every node's rows older than
// PluginHealthStale (the node is gone) and returns how many went. Any node
// may run it.
func (s *Store) SweepPluginHealth(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("updated_at < ?", s.Now().Add(-PluginHealthStale)).Delete(&pluginHealthRow{})
	if res.Error != nil {
		return 0, translate(res.Error, "sweep plugin health")
	}
	return res.RowsAffected, nil
}

// RetirePluginHealth deletes this node's rows: a node that stops calls it
// so that the admin stops showing it at once rather than after
// PluginHealthStale.
func (s *Store) RetirePluginHealth(ctx context.Context) error {
	err := s.db.WithContext(ctx).Where("node_id = ?", s.node).Delete(&pluginHealthRow{}).Error
	return translate(err, "retire plugin health")
}

// PluginHealthOf returns every node's current health of the tenant's
// plugin (this node's row included), ordered by hostname and node ID; rows
// older than PluginHealthStale are left out.
func (s *Store) PluginHealthOf(ctx context.Context, tenantID, pluginID string) ([]PluginHealth, error) {
	var rows []pluginHealthRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND plugin_id = ? AND updated_at >= ?", tenantID, pluginID, s.Now().Add(-PluginHealthStale)).
		Order("node_host, node_id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, "load plugin health")
	}
	out := make([]PluginHealth, len(rows))
	for i := range rows {
		out[i] = rows[i].health(true)
	}
	return out, nil
}

// TenantPluginHealth returns every node's current health of each of the
// tenant's plugins, without the last errors and log lines (the plugin
// list's summary), ordered by plugin, hostname and node ID.
func (s *Store) TenantPluginHealth(ctx context.Context, tenantID string) ([]PluginHealth, error) {
	var rows []pluginHealthRow
	err := s.db.WithContext(ctx).
		Select("tenant_id, plugin_id, node_id, node_host, calls, errors, p50_ms, p95_ms, breaker_open_until, updated_at").
		Where("tenant_id = ? AND updated_at >= ?", tenantID, s.Now().Add(-PluginHealthStale)).
		Order("plugin_id, node_host, node_id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, "load plugin health")
	}
	out := make([]PluginHealth, len(rows))
	for i := range rows {
		out[i] = rows[i].health(false)
	}
	return out, nil
}

// health decodes a row, with its lists when lists is true.
func (r *pluginHealthRow) health(lists bool) PluginHealth {
	h := PluginHealth{NodeID: r.NodeID, NodeHost: clip.Bytes(r.NodeHost, PluginHealthMaxWord), TenantID: r.TenantID, PluginID: r.PluginID,
		Calls: r.Calls, Errors: r.Errors, P50: fromMillis(r.P50MS), P95: fromMillis(r.P95MS), UpdatedAt: r.UpdatedAt.UTC()}
	if r.BreakerOpenUntil != nil {
		h.BreakerOpenUntil = r.BreakerOpenUntil.UTC()
	}
	if lists {
		h.LastErrors = decodeHealthList(r.LastErrors, PluginHealthMaxErrors, clipHealthError)
		h.Logs = decodeHealthList(r.Logs, PluginHealthMaxLogs, clipHealthLog)
	}
	return h
}

// millis is d in milliseconds with microsecond precision.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// fromMillis is millis' inverse; a negative, NaN or absurd value (over a
// day) is zero.
func fromMillis(ms float64) time.Duration {
	if !(ms > 0) || ms > 24*60*60*1000 {
		return 0
	}
	return time.Duration(ms*1000) * time.Microsecond
}

// encodeHealthList is the JSON array of the first max items (newest
// first), each cut by clip, leaving out the oldest ones beyond
// PluginHealthMaxJSON bytes.
func encodeHealthList[T any](items []T, max int, clip func(T) T) string {
	items = items[:min(len(items), max)]
	var b strings.Builder
	b.WriteByte('[')
	for i, it := range items {
		one, err := json.Marshal(clip(it))
		if err != nil || b.Len()+len(one)+2 > PluginHealthMaxJSON {
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(one)
	}
	b.WriteByte(']')
	return b.String()
}

// decodeHealthList reads a list encodeHealthList wrote, or any text
// stored in its place: anything but a JSON array of such items, or a text
// over PluginHealthMaxJSON bytes, is an empty list; the list is cut to max
// items, each cut by clip.
func decodeHealthList[T any](s string, max int, clip func(T) T) []T {
	var items []T
	if len(s) > PluginHealthMaxJSON || json.Unmarshal([]byte(s), &items) != nil {
		return nil
	}
	items = items[:min(len(items), max)]
	for i := range items {
		items[i] = clip(items[i])
	}
	return items
}

func clipHealthError(e HealthError) HealthError {
	return HealthError{At: e.At.UTC(), Reason: clip.Bytes(e.Reason, PluginHealthMaxWord), Detail: clip.Bytes(e.Detail, PluginHealthMaxText)}
}

func clipHealthLog(l HealthLog) HealthLog {
	out := HealthLog{At: l.At.UTC(), Level: clip.Bytes(l.Level, PluginHealthMaxWord), Message: clip.Bytes(l.Message, PluginHealthMaxText)}
	if len(l.Attrs) == 0 {
		return out
	}
	keys := make([]string, 0, len(l.Attrs))
	for k := range l.Attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out.Attrs = make(map[string]string, min(len(keys), PluginHealthMaxAttrs))
	for _, k := range keys[:min(len(keys), PluginHealthMaxAttrs)] {
		out.Attrs[clip.Bytes(k, PluginHealthMaxWord)] = clip.Bytes(l.Attrs[k], PluginHealthMaxText)
	}
	return out
}
