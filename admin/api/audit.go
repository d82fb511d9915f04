package api

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// GET /audit?action=&target_type=&target_id=&actor_id=&since=&until=&limit=&before=
// lists the tenant's audit entries, newest first, with their before/after
// snapshots (secret values only ever appear as "[redacted]"). When a page is
// full, next_before is the ID to pass as before= for the next one.
func (a *API) auditLog(c *fiber.Ctx) error {
	var f model.AuditFilter
	var err error
	for _, p := range []struct {
		name string
		dst  *string
	}{{"action", &f.Action}, {"target_type", &f.TargetType}, {"target_id", &f.TargetID}, {"actor_id", &f.ActorID}, {"before", &f.Before}} {
		if *p.dst, err = queryText(c, p.name, admin.MaxIDParam); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		raw := strings.TrimSpace(c.Query(p.name))
		if raw == "" {
			continue
		}
		if len(raw) > 64 {
			return badParam(p.name, "too_long")
		}
		if *p.dst, err = time.Parse(time.RFC3339, raw); err != nil {
			return badParam(p.name, "wrong_type")
		}
	}
	if f.Limit, err = queryInt(c, "limit", 50, 1, storage.MaxAuditPage); err != nil {
		return err
	}
	es, err := a.store.AuditLog(c.UserContext(), web.Tenant(c).ID, f)
	if err != nil {
		return err
	}
	out := make([]auditView, len(es))
	for i := range es {
		out[i] = viewAudit(&es[i])
	}
	m := fiber.Map{"entries": out}
	if len(es) == f.Limit {
		m["next_before"] = es[len(es)-1].ID
	}
	return c.JSON(m)
}
