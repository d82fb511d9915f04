package service

import (
	"context"
	"errors"
	"time"

	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// AccessInput is a partial update of what a plugin may see and how it is
// launched: a nil field is left as it is.
type AccessInput struct {
	// UserFields are the profile fields (model.AllUserFields) the launch
	// exchange and a wasm plugin's input carry. The opaque user id, role,
	// locale and tenant are always given.
	UserFields *[]string `json:"user_fields"`
	// Grants are the host-function families (model.AllGrants) a wasm
	// plugin may call; an iframe plugin ignores them.
	Grants *[]string `json:"grants"`
	// TokenTTLSeconds is the launch token's lifetime
	// (model.MinTokenTTLSeconds–model.MaxTokenTTLSeconds).
	TokenTTLSeconds *int `json:"token_ttl_seconds"`
	// LaunchMethod is post (default) or get (the token in the URL, for
	// static hosts: it lands in browser history and server logs).
	LaunchMethod *model.LaunchMethod `json:"launch_method"`
	// AllowPrivateNetwork lets a wasm plugin reach the private addresses
	// the operator lists in PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS, at its
	// allowed hosts (off by default; an iframe plugin ignores it). Only
	// this route sets it, so every change is a model.AuditPluginAccess audit entry.
	AllowPrivateNetwork *bool  `json:"allow_private_network"`
	Version             *int64 `json:"version"`
}

func (in *AccessInput) apply(p *model.Plugin) {
	if in.UserFields != nil {
		p.UserFields = model.StringList(*in.UserFields)
	}
	if in.Grants != nil {
		p.Grants = model.StringList(*in.Grants)
	}
	if in.TokenTTLSeconds != nil {
		p.TokenTTLSeconds = *in.TokenTTLSeconds // 0: the default, as timeout_ms
	}
	if in.LaunchMethod != nil {
		p.LaunchMethod = *in.LaunchMethod // "": the default, post
	}
	if in.AllowPrivateNetwork != nil {
		p.AllowPrivateNetwork = *in.AllowPrivateNetwork
	}
}

// UpdateAccess applies a partial update of a plugin's access settings,
// guarded by in.Version and audited as model.AuditPluginAccess with the access
// fields before and after.
func (s *Service) UpdateAccess(ctx context.Context, tenantID, slug string, a model.Actor, in AccessInput) (*model.Plugin, error) {
	if in.Version == nil {
		return nil, ErrVersionNeeded
	}
	return s.store.UpdatePluginAccess(ctx, tenantID, slug, *in.Version, a, func(p *model.Plugin) error {
		in.apply(p)
		return p.Validate(s.rules())
	})
}

// Client-secret rotation overlap: the default and the longest a gestor may
// choose. During the overlap the replaced secret keeps working, so the
// plugin's operators can deploy the new one without an outage.
const (
	DefaultSecretOverlap = 24 * time.Hour
	MaxSecretOverlap     = 7 * 24 * time.Hour
)

// ErrNotTokenPlugin means the plugin has no client credentials because it
// does not use launch tokens.
var ErrNotTokenPlugin = storage.ErrNotTokenPlugin

// RotatedSecret is the result of a client-secret rotation: the new
// credentials (the secret in clear, shown once) and until when the
// replaced secret still works (nil: it stopped at once).
type RotatedSecret struct {
	Credentials
	PreviousValidUntil *time.Time `json:"previous_secret_valid_until"`
}

// RotateClientSecret issues a new client secret for a token plugin. The
// replaced one keeps working for overlap (0 stops it at once; at most
// MaxSecretOverlap); a secret still in an earlier overlap stops now. A token
// plugin registered without credentials gets a client ID as well.
func (s *Service) RotateClientSecret(ctx context.Context, tenantID, slug string, overlap time.Duration, a model.Actor) (*model.Plugin, *RotatedSecret, error) {
	if overlap < 0 || overlap > MaxSecretOverlap {
		v := &model.ValidationError{}
		v.Add("overlap_hours", "out_of_range")
		return nil, nil, v
	}
	var fresh model.Plugin
	creds := newCredentials(&fresh)
	var until *time.Time
	if overlap > 0 {
		u := s.store.Now().Add(overlap)
		until = &u
	}
	p, err := s.store.RotateClientSecret(ctx, tenantID, slug,
		storage.NewClientSecret{ClientID: fresh.ClientID, SecretHash: fresh.ClientSecretHash}, until, a)
	if err != nil {
		return nil, nil, err
	}
	creds.ClientID = p.ClientID
	return p, &RotatedSecret{Credentials: *creds, PreviousValidUntil: p.PreviousSecretExpiresAt}, nil
}

// ErrNoLaunch means the service was built without the launch service, so
// it cannot list or rotate signing keys.
var ErrNoLaunch = errors.New("signing keys are not available: no launch service")

// launchService returns the signing-key manager given at New.
func (s *Service) launchService() (*launch.Service, error) {
	if s.launch == nil {
		return nil, ErrNoLaunch
	}
	return s.launch, nil
}

// SigningKeyView is one of the tenant's launch-token signing keys as the
// admin shows it: never the key material.
type SigningKeyView struct {
	KID         string     `json:"kid"`
	Algorithm   string     `json:"alg"`
	Status      string     `json:"status"` // next, current, previous or retired
	CreatedAt   time.Time  `json:"created_at"`
	CreatedBy   string     `json:"created_by"`
	ActivatesAt time.Time  `json:"activates_at"`
	SignsUntil  *time.Time `json:"signs_until"`
	RetiresAt   *time.Time `json:"retires_at"`
}

func viewSigningKey(k launch.KeyInfo) SigningKeyView {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	return SigningKeyView{KID: k.KID, Algorithm: k.Algorithm, Status: string(k.State), CreatedAt: k.CreatedAt.UTC(),
		CreatedBy: k.CreatedBy, ActivatesAt: k.ActivatesAt.UTC(), SignsUntil: utc(k.SignsUntil), RetiresAt: utc(k.RetiresAt)}
}

// SigningKeys lists the tenant's signing keys, newest first. It creates
// none: a tenant gets its first key when a plugin is first launched or its
// JWKS first fetched.
func (s *Service) SigningKeys(ctx context.Context, tenantID string) ([]SigningKeyView, error) {
	ls, err := s.launchService()
	if err != nil {
		return nil, err
	}
	keys, err := ls.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]SigningKeyView, 0, len(keys))
	for i := len(keys) - 1; i >= 0; i-- {
		out = append(out, viewSigningKey(keys[i]))
	}
	return out, nil
}

// RotateSigningKey schedules a new signing key for the whole tenant
// (audited by the launch service): published at once, signing a few minutes
// later, the replaced key still accepted until its tokens have expired.
func (s *Service) RotateSigningKey(ctx context.Context, tenantID string, a model.Actor) (*SigningKeyView, error) {
	ls, err := s.launchService()
	if err != nil {
		return nil, err
	}
	k, err := ls.Rotate(ctx, tenantID, a)
	if err != nil {
		return nil, err
	}
	v := viewSigningKey(*k)
	return &v, nil
}

// PreviousSecretValidUntil is when p's replaced client secret stops
// working, if its overlap is still running at now (an overlap that has
// ended is history, not a secret that still works); nil otherwise.
func PreviousSecretValidUntil(p *model.Plugin, now time.Time) *time.Time {
	if p.PreviousClientSecretHash != "" && p.PreviousSecretExpiresAt != nil && now.Before(*p.PreviousSecretExpiresAt) {
		u := p.PreviousSecretExpiresAt.UTC()
		return &u
	}
	return nil
}
