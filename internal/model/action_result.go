package model

import "time"

// ActionResult is the outcome of a wasm plugin's form action, kept for
// ActionResultTTL so that the portal answers the POST with a redirect to a
// page showing it: a reload never runs the action twice. Body is the
// portal's own JSON of the page (already checked when the plugin answered);
// Status is the HTTP status that page is shown with.
type ActionResult struct {
	ID        string `gorm:"primaryKey"` // random, 128 bits: the r= of /p/{slug}?r={id}
	TenantID  string
	SessionID string // the browser session that sent the form; no other may read it
	PluginID  string
	Status    int
	Body      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// TableName maps ActionResult onto action_results.
func (ActionResult) TableName() string { return "action_results" }

const (
	// ActionResultTTL is how long a result can be reopened (reloaded,
	// bookmarked, gone back to) in the session that produced it.
	ActionResultTTL = 30 * time.Minute
	// ActionResultsPerSession bounds the results kept for one session: a
	// new one deletes the oldest beyond it.
	ActionResultsPerSession = 10
)
