package runner

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/storage"
)

// Services implements sandbox.Services over the database: the plugin's KV
// store and its secrets, decrypted at call time. Every method is scoped by
// (tenantID, pluginID).
type Services struct {
	Store *storage.Store
	Box   *secret.Box
}

var _ sandbox.Services = (*Services)(nil)

// outageKey marks a call's context with the flag Services sets when the
// database cannot be reached during the call (storage.IsUnavailable).
type outageKey struct{}

// watchOutage returns ctx carrying a fresh outage flag, and the flag.
func watchOutage(ctx context.Context) (context.Context, *atomic.Bool) {
	flag := new(atomic.Bool)
	return context.WithValue(ctx, outageKey{}, flag), flag
}

// noteOutage sets ctx's outage flag when err means the database is
// unreachable, and returns err marked sandbox.ErrServiceUnavailable (the
// sandbox then logs it as a warning); any other err unchanged.
func noteOutage(ctx context.Context, err error) error {
	if !storage.IsUnavailable(err) {
		return err
	}
	if flag, ok := ctx.Value(outageKey{}).(*atomic.Bool); ok {
		flag.Store(true)
	}
	return fmt.Errorf("%w: %w", sandbox.ErrServiceUnavailable, err)
}

// KVGet returns the value of key.
func (s *Services) KVGet(ctx context.Context, tenantID, pluginID, key string) ([]byte, bool, error) {
	v, found, err := s.Store.KVGet(ctx, tenantID, pluginID, key)
	return v, found, noteOutage(ctx, err)
}

// KVSet stores value under key; a full store is sandbox.ErrKVQuota.
func (s *Services) KVSet(ctx context.Context, tenantID, pluginID, key string, value []byte) error {
	err := noteOutage(ctx, s.Store.KVSet(ctx, tenantID, pluginID, key, value))
	if errors.Is(err, storage.ErrKVQuota) {
		return sandbox.ErrKVQuota
	}
	return err
}

// KVUpdate applies change to key atomically; a full store is
// sandbox.ErrKVQuota.
func (s *Services) KVUpdate(ctx context.Context, tenantID, pluginID, key string, change func([]byte, bool) ([]byte, bool, error)) error {
	err := noteOutage(ctx, s.Store.KVUpdate(ctx, tenantID, pluginID, key, change))
	if errors.Is(err, storage.ErrKVQuota) {
		return sandbox.ErrKVQuota
	}
	return err
}

// KVDelete removes key.
func (s *Services) KVDelete(ctx context.Context, tenantID, pluginID, key string) error {
	return noteOutage(ctx, s.Store.KVDelete(ctx, tenantID, pluginID, key))
}

// Secret returns the decrypted secret name; found is false when it is not
// set. A secret that does not decrypt (wrong key, or a row moved between
// plugins) is an error, never a value.
func (s *Services) Secret(ctx context.Context, tenantID, pluginID, name string) (string, bool, error) {
	if s.Box == nil {
		return "", false, errors.New("secrets are not configured")
	}
	sealed, err := s.Store.SecretCiphertext(ctx, tenantID, pluginID, name)
	err = noteOutage(ctx, err)
	if errors.Is(err, model.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	v, err := s.Box.Open(tenantID, pluginID, name, sealed)
	if err != nil {
		return "", false, fmt.Errorf("open secret: %w", err)
	}
	return string(v), true, nil
}
