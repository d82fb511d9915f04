package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
)

// accessView is a plugin's access settings, with the choices and bounds a
// client needs to build a form.
type accessView struct {
	Slug     string           `json:"slug"`
	Type     model.PluginType `json:"type"`
	AuthType model.AuthType   `json:"auth_type"`
	model.PluginAccess
	ClientID                 string     `json:"client_id"`
	PreviousSecretValidUntil *time.Time `json:"previous_secret_valid_until"`
	// AllowPrivateNetwork is the gestor's half of the private-network
	// rule; PrivateNetworkAvailable says whether the operator allows any
	// private address at all (PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS), without
	// naming them. Only both together let a plugin reach a private address.
	AllowPrivateNetwork     bool          `json:"allow_private_network"`
	PrivateNetworkAvailable bool          `json:"private_network_available"`
	Version                 int64         `json:"version"`
	Choices                 accessChoices `json:"choices"`
	Changed                 *[]string     `json:"changed,omitempty"`
}

type accessChoices struct {
	UserFields      []string             `json:"user_fields"`
	Grants          []string             `json:"grants"`
	LaunchMethods   []model.LaunchMethod `json:"launch_methods"`
	MinTokenTTL     int                  `json:"min_token_ttl_seconds"`
	MaxTokenTTL     int                  `json:"max_token_ttl_seconds"`
	DefaultTokenTTL int                  `json:"default_token_ttl_seconds"`
}

var accessChoiceList = accessChoices{
	UserFields: model.AllUserFields, Grants: model.AllGrants, LaunchMethods: []model.LaunchMethod{model.LaunchPost, model.LaunchGet},
	MinTokenTTL: model.MinTokenTTLSeconds, MaxTokenTTL: model.MaxTokenTTLSeconds, DefaultTokenTTL: model.DefaultTokenTTLSeconds,
}

// accessSnapshotKeys orders the fields an access PATCH may report as changed.
var accessSnapshotKeys = []string{"user_fields", "grants", "token_ttl_seconds", "launch_method", "allow_private_network"}

func viewAccess(p *model.Plugin, now time.Time) accessView {
	acc := p.Fields().PluginAccess
	acc.UserFields = append(model.StringList{}, acc.UserFields...)
	acc.Grants = append(model.StringList{}, acc.Grants...)
	v := accessView{Slug: p.Slug, Type: p.Type, AuthType: p.AuthType, PluginAccess: acc, ClientID: p.ClientID,
		AllowPrivateNetwork: p.AllowPrivateNetwork, Version: p.Version, Choices: accessChoiceList}
	if v.TokenTTLSeconds == 0 {
		v.TokenTTLSeconds = model.DefaultTokenTTLSeconds
	}
	if v.LaunchMethod == "" {
		v.LaunchMethod = model.LaunchPost
	}
	v.PreviousSecretValidUntil = service.PreviousSecretValidUntil(p, now)
	return v
}

// GET /plugins/:slug/access: the access settings.
func (a *API) getAccess(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	v := viewAccess(p, a.store.Now())
	v.PrivateNetworkAvailable = a.priv != nil && a.priv(web.Tenant(c).Slug)
	return c.JSON(v)
}

// PATCH /plugins/:slug/access {"version", "user_fields", "grants",
// "token_ttl_seconds", "launch_method", "allow_private_network"}: absent fields stay as they are;
// the answer names the fields that changed.
func (a *API) updateAccess(c *fiber.Ctx) error {
	before, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	var in service.AccessInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	p, err := a.svc.UpdateAccess(c.UserContext(), web.Tenant(c).ID, before.Slug, actorOf(c), in)
	if err != nil {
		return fail(c, err, pluginNotFound)
	}
	v := viewAccess(p, a.store.Now())
	v.PrivateNetworkAvailable = a.priv != nil && a.priv(web.Tenant(c).Slug)
	changed := changedKeys(accessMap(before), accessMap(p), accessSnapshotKeys)
	v.Changed = &changed
	return c.JSON(v)
}

func accessMap(p *model.Plugin) map[string]any {
	v := viewAccess(p, time.Time{})
	return map[string]any{"user_fields": v.UserFields, "grants": v.Grants, "token_ttl_seconds": v.TokenTTLSeconds,
		"launch_method": v.LaunchMethod, "allow_private_network": v.AllowPrivateNetwork}
}

type rotateSecretBody struct {
	// OverlapHours is how long the replaced secret keeps working: 0 stops
	// it at once (a leaked secret), at most 168; 24 when absent.
	OverlapHours *int `json:"overlap_hours"`
}

// rotatedView answers a rotation: the new secret appears here only.
type rotatedView struct {
	ClientID                 string     `json:"client_id"`
	ClientSecret             string     `json:"client_secret"`
	PreviousSecretValidUntil *time.Time `json:"previous_secret_valid_until"`
	Version                  int64      `json:"version"`
}

// POST /plugins/:slug/client-secret {"overlap_hours": 24}: a new client
// secret, shown in this response only. The replaced secret keeps working
// until previous_secret_valid_until (null: it stopped at once). The body
// is optional.
func (a *API) rotateClientSecret(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	var b rotateSecretBody
	if len(c.Body()) > 0 {
		if err := web.DecodeJSON(c, &b); err != nil {
			return err
		}
	}
	overlap := service.DefaultSecretOverlap
	if b.OverlapHours != nil {
		overlap = time.Duration(*b.OverlapHours) * time.Hour
		if *b.OverlapHours < 0 || *b.OverlapHours > int(service.MaxSecretOverlap/time.Hour) {
			overlap = -1 // reported by the Service as out of range
		}
	}
	p, r, err := a.svc.RotateClientSecret(c.UserContext(), web.Tenant(c).ID, p.Slug, overlap, actorOf(c))
	if err != nil {
		return fail(c, err, pluginNotFound)
	}
	return c.JSON(rotatedView{ClientID: r.ClientID, ClientSecret: r.ClientSecret, PreviousSecretValidUntil: r.PreviousValidUntil, Version: p.Version})
}
