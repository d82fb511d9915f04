package service

import (
	"context"
	"strings"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// NewAPIKey creates a key and returns it in clear, once.
func (s *Service) NewAPIKey(ctx context.Context, tenantID, name string, scopes []string, a model.Actor) (*model.APIKey, string, error) {
	v := &model.ValidationError{}
	name = model.CheckField(v, "name", name, model.MaxAPIKeyNameLength, true, false)
	sc, err := model.ParseScopes(strings.Join(scopes, ","))
	if err != nil {
		v.Add("scopes", "invalid_choice")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	key := APIKeyPrefix + auth.NewToken()
	k := &model.APIKey{Name: name, Scopes: sc, Prefix: key[:len(APIKeyPrefix)+6], Hash: auth.HashToken(key)}
	if err := s.store.CreateAPIKey(ctx, tenantID, k, a); err != nil {
		return nil, "", err
	}
	return k, key, nil
}

// APIKeyPrefix starts every Portico API key, so secret scanners and people
// recognise one.
const APIKeyPrefix = "pk_"

// RevokeAPIKey revokes key id at once: the next request with it fails.
// storage.ErrAlreadyRevoked for a revoked key, model.ErrNotFound for no
// key of tenantID.
func (s *Service) RevokeAPIKey(ctx context.Context, tenantID, id string, a model.Actor) error {
	if _, err := s.store.APIKeyByID(ctx, tenantID, id); err != nil {
		return err
	}
	return s.store.RevokeAPIKey(ctx, tenantID, id, a)
}

// Errors of the admin API key check (AdminKey).
var (
	ErrInvalidAPIKey = storage.ErrInvalidAPIKey
	ErrMissingScope  = storage.ErrMissingScope
)

// AdminKey returns the API key named by an Authorization header value
// when it exists in tenantID and holds the admin scope
// (storage.Store.KeyFromHeader).
// The admin API and its upload gate both check keys with it.
func (s *Service) AdminKey(ctx context.Context, tenantID, header string) (*model.APIKey, error) {
	return s.store.KeyFromHeader(ctx, tenantID, header, model.ScopeAdmin)
}

// UseAPIKey records that k was used (at most once a minute per key).
func (s *Service) UseAPIKey(ctx context.Context, k *model.APIKey) error {
	return s.store.TouchAPIKey(ctx, k)
}
