package service

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// A wasm plugin's key-value store, as gestores see and empty it: how much
// it holds against its limits, its keys page by page (names, sizes, update
// times; never a value, which may be a customer's data or an ERP token),
// one key deleted, or every key. The admin API and the admin UI both call
// these, so a page and an answer list and delete the same way.

// Errors of the data operations that the edges map to answers.
var (
	// ErrNoData means the plugin is not a wasm plugin: Portico keeps no
	// data for it (an iframe app keeps its own).
	ErrNoData = fmt.Errorf("not a wasm plugin, so it has no stored data: %w", model.ErrNotFound)
)

// ParamError is a listing parameter that cannot be used: Name is the
// parameter ("prefix", "after"), Code why ("too_long", "invalid").
type ParamError struct{ Name, Code string }

func (e *ParamError) Error() string { return fmt.Sprintf("parameter %s: %s", e.Name, e.Code) }

// Bounds of a data listing.
const (
	DefaultDataPage = 50
	MaxDataPage     = 100
)

// KeyToken writes a key as a token that travels unchanged in a URL or a
// form: its bytes in unpadded base64url. A key may hold anything but NUL,
// and a browser rewrites line breaks in a form's values; a token is
// letters, digits, '-' and '_'. The listing's cursor is the token of the
// last key of a page, and the UI's delete buttons name their key by it.
func KeyToken(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// maxKeyToken is the length of the longest key's token.
var maxKeyToken = base64.RawURLEncoding.EncodedLen(storage.KVMaxKey)

// KeyFromToken returns the key a token names; false when the token is
// not one KeyToken writes of a valid key (another alphabet, padding, line
// breaks, stray bits, too long, or a key that storage.ValidKVKey refuses).
func KeyFromToken(token string) (string, bool) {
	if token == "" || len(token) > maxKeyToken {
		return "", false
	}
	// The decoder skips line breaks; a token has none.
	for i := 0; i < len(token); i++ {
		if c := token[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || !storage.ValidKVKey(string(b)) {
		return "", false
	}
	return string(b), true
}

// DataQuery chooses a page of a plugin's keys.
type DataQuery struct {
	// Prefix keeps the keys that start with it, byte for byte ("" all).
	Prefix string
	// After is the cursor of the page: the token (KeyToken) of the key
	// the page starts after; "" for the first page.
	After string
	// Limit is the page's size, 1 to MaxDataPage; 0 is DefaultDataPage.
	Limit int
}

// DataUsage is what a plugin's store holds, and its limits.
type DataUsage struct {
	Keys, Bytes       int64 // bytes: of the keys and the values, as the quota counts them
	MaxKeys, MaxBytes int64
}

// Near reports whether the store holds more than 90 % of either limit.
func (u DataUsage) Near() bool { return u.Keys*10 > u.MaxKeys*9 || u.Bytes*10 > u.MaxBytes*9 }

// Full reports whether the store is at either limit: a write that adds a
// key, or adds bytes, fails.
func (u DataUsage) Full() bool { return u.Keys >= u.MaxKeys || u.Bytes >= u.MaxBytes }

// DataPage is one page of a plugin's keys.
type DataPage struct {
	Plugin *model.Plugin
	Usage  DataUsage
	Keys   []storage.KVKey
	// Next is the cursor of the next page; "" when this page is the last.
	Next string
}

// dataPlugin loads the live wasm plugin slug of tenantID.
func (s *Service) dataPlugin(ctx context.Context, tenantID, slug string) (*model.Plugin, error) {
	p, err := s.versionedPlugin(ctx, tenantID, slug)
	if err != nil {
		return nil, err
	}
	if p.Type != model.PluginWasm {
		return nil, ErrNoData
	}
	return p, nil
}

// PluginData returns the usage of the store of the wasm plugin slug and
// the page of its keys q names. A prefix or cursor that cannot be used is
// a *ParamError; an unknown plugin ErrPluginMissing, another plugin
// ErrNoData.
func (s *Service) PluginData(ctx context.Context, tenantID, slug string, q DataQuery) (*DataPage, error) {
	// The plugin first: another tenant's slug is not found, whatever the
	// parameters.
	p, err := s.dataPlugin(ctx, tenantID, slug)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	switch {
	case limit == 0:
		limit = DefaultDataPage
	case limit < 1 || limit > MaxDataPage:
		return nil, &ParamError{Name: "limit", Code: "out_of_range"}
	}
	if len(q.Prefix) > storage.KVMaxKey {
		return nil, &ParamError{Name: "prefix", Code: "too_long"}
	}
	if !storage.ValidKVPrefix(q.Prefix) {
		return nil, &ParamError{Name: "prefix", Code: "invalid"}
	}
	after := ""
	if q.After != "" {
		var ok bool
		if after, ok = KeyFromToken(q.After); !ok {
			return nil, &ParamError{Name: "after", Code: "invalid"}
		}
	}
	keys, bytes, err := s.store.KVUsage(ctx, tenantID, p.ID)
	if err != nil {
		return nil, err
	}
	page, err := s.store.KVKeys(ctx, tenantID, p.ID, q.Prefix, after, limit+1)
	if err != nil {
		return nil, err
	}
	out := &DataPage{Plugin: p, Keys: page,
		Usage: DataUsage{Keys: keys, Bytes: bytes, MaxKeys: storage.KVMaxKeys, MaxBytes: storage.KVMaxBytes}}
	if len(page) > limit {
		out.Keys = page[:limit]
		out.Next = KeyToken(page[limit-1].Key)
	}
	return out, nil
}

// DeletePluginKey deletes one key of the wasm plugin slug's store,
// audited. A key that is absent, or cannot be one, is model.ErrNotFound
// (the edge's "key not found"); the plugin's own errors are those of
// PluginData.
func (s *Service) DeletePluginKey(ctx context.Context, tenantID, slug, key string, a model.Actor) error {
	p, err := s.dataPlugin(ctx, tenantID, slug)
	if err != nil {
		return err
	}
	return s.store.KVRemove(ctx, tenantID, p.ID, p.Slug, key, a)
}

// ClearPluginData deletes every key of the wasm plugin slug's store and
// returns how many went; the audit entry counts them too. It must be
// confirmed (a validation error on "confirm" otherwise): the plugin loses
// everything it saved, and nothing brings it back.
func (s *Service) ClearPluginData(ctx context.Context, tenantID, slug string, confirm bool, a model.Actor) (int64, error) {
	p, err := s.dataPlugin(ctx, tenantID, slug)
	if err != nil {
		return 0, err
	}
	if !confirm {
		v := &model.ValidationError{}
		v.Add("confirm", "required")
		return 0, v.Err()
	}
	return s.store.KVClear(ctx, tenantID, p.ID, p.Slug, a)
}
