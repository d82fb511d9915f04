package service

import (
	"context"
	"errors"
	"strings"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
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
	ErrInvalidAPIKey = errors.New("no such api key in this tenant")
	ErrMissingScope  = errors.New("the api key lacks the admin scope")
)

// MaxAuthorization bounds the Authorization header value AdminKey reads.
const MaxAuthorization = 256

// AdminKey returns the API key named by an Authorization header value
// ("Bearer <key>", the scheme case-insensitive per RFC 9110, section 11.1)
// when it exists in tenantID and holds the admin scope; otherwise
// ErrInvalidAPIKey, ErrMissingScope or a storage error. The admin API and
// its upload gate both check keys with it.
func (s *Service) AdminKey(ctx context.Context, tenantID, header string) (*model.APIKey, error) {
	scheme, key, ok := strings.Cut(header, " ")
	ok = ok && strings.EqualFold(scheme, "Bearer")
	key = strings.TrimSpace(key)
	if !ok || key == "" || len(header) > MaxAuthorization {
		return nil, ErrInvalidAPIKey
	}
	k, err := s.store.APIKeyByHash(ctx, tenantID, auth.HashToken(key))
	if errors.Is(err, model.ErrNotFound) {
		return nil, ErrInvalidAPIKey
	}
	if err != nil {
		return nil, err
	}
	if !k.HasScope(model.ScopeAdmin) {
		return nil, ErrMissingScope
	}
	return k, nil
}

// UseAPIKey records that k was used (at most once a minute per key).
func (s *Service) UseAPIKey(ctx context.Context, k *model.APIKey) error {
	return s.store.TouchAPIKey(ctx, k)
}
