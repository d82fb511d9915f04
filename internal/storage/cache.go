package storage

import (
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/portico-dev/portico/internal/model"
)

// CacheTTL is how long a cached read lives. Invalidation is by Change
// (at once in the writing process, within the listener's delivery time on
// every other node); the TTL is only a safety net against a change that
// was never announced.
const CacheTTL = 5 * time.Second

// Bounds of the store's caches. Only rows that exist are cached (a
// miss is never remembered), so only real sessions, users and keys can
// fill them; a full map is emptied and refilled.
const (
	maxCachedSessions = 100_000
	maxCachedUsers    = 100_000
	maxCachedKeys     = 10_000
	maxCachedSubjects = 100_000
	maxCachedConfigs  = 10_000
)

// storeCache holds what every request reads and rarely changes: sessions
// and their users (every logged-in request), API keys (every API call), a
// wasm call's context (the user's opaque subject for the plugin and the
// plugin's configuration) and what a launch exchange reads (the plugin by
// client ID, the user by subject). Decrypted secrets are never cached. It
// is used only while the store is Coherent.
type storeCache struct {
	sessions ttlMap[model.Session]
	users    ttlMap[model.User]
	keys     ttlMap[model.APIKey]
	subjects ttlMap[string]
	// subjectUsers maps tenant, plugin and subject to the user's ID (the
	// launch exchange's question); like subjects, it never changes.
	subjectUsers ttlMap[string]
	configs      ttlMap[[]model.ConfigValue]
	// clients maps tenant and OAuth client ID to the plugin (the launch
	// exchange authenticates every call with it).
	clients ttlMap[model.Plugin]

	// sessionReads coalesces concurrent misses of one session (see
	// SessionUser); touching holds the rows this process is recording a
	// use of (see touchOnce).
	sessionReads singleflight.Group
	touching     sync.Map
}

// touchOnce runs write, which records a use of a row (a session's
// last_seen_at, an API key's last_used_at), unless such a write of the
// same row is already under way in this process: then it returns nil at
// once. Every request that finds the recorded use stale asks for one, and
// a busy login or key has many requests in flight; without this they
// would all queue on the row's lock (on PostgreSQL each waiting for the
// previous one's commit) to write nearly the same time.
func (c *storeCache) touchOnce(key string, write func() error) error {
	if _, busy := c.touching.LoadOrStore(key, struct{}{}); busy {
		return nil
	}
	defer c.touching.Delete(key)
	return write()
}

func newStoreCache() *storeCache {
	return &storeCache{
		sessions: newTTLMap[model.Session](maxCachedSessions),
		users:    newTTLMap[model.User](maxCachedUsers),
		keys:     newTTLMap[model.APIKey](maxCachedKeys),
		subjects: newTTLMap[string](maxCachedSubjects),
		configs:  newTTLMap[[]model.ConfigValue](maxCachedConfigs),

		subjectUsers: newTTLMap[string](maxCachedSubjects),
		clients:      newTTLMap[model.Plugin](maxCachedConfigs),
	}
}

// cacheKey joins a tenant and IDs; IDs never contain the separator.
func cacheKey(parts ...string) string { return strings.Join(parts, "\x00") }

// apply drops what ch makes stale.
func (c *storeCache) apply(ch Change) {
	tenant := func(k string) bool { return strings.HasPrefix(k, ch.TenantID+"\x00") }
	switch ch.Kind {
	case ChangeAll:
		c.sessions.clear()
		c.users.clear()
		c.keys.clear()
		c.subjects.clear()
		c.subjectUsers.clear()
		c.configs.clear()
		c.clients.clear()
	case ChangeTenant:
		c.configs.deleteFunc(func(k string, _ []model.ConfigValue) bool { return tenant(k) })
		c.subjects.deleteFunc(func(k string, _ string) bool { return tenant(k) })
		c.subjectUsers.deleteFunc(func(k string, _ string) bool { return tenant(k) })
		c.clients.deleteFunc(func(k string, _ model.Plugin) bool { return tenant(k) })
	case ChangeUser:
		c.users.delete(cacheKey(ch.TenantID, ch.ID))
		c.sessions.deleteFunc(func(_ string, s model.Session) bool { return s.TenantID == ch.TenantID && s.UserID == ch.ID })
	case ChangeSession:
		c.sessions.delete(cacheKey(ch.TenantID, ch.ID))
	case ChangeAPIKeys:
		c.keys.deleteFunc(func(k string, _ model.APIKey) bool { return tenant(k) })
		// A revoked key ends the logins its portal sessions started
		// (endKeysPortalSessions): a cached one must be read again.
		c.sessions.deleteFunc(func(_ string, s model.Session) bool {
			return s.TenantID == ch.TenantID && s.PortalSessionID != ""
		})
	}
}

// ttlMap is a bounded map whose entries live CacheTTL. Every deletion
// bumps its epoch, and put stores a value only if the epoch is still the
// one taken before the value was read from the database: a read that
// raced with an invalidation is not cached, so a change can never be
// overwritten by the value it replaced.
type ttlMap[V any] struct {
	mu    sync.RWMutex
	m     map[string]ttlEntry[V]
	max   int
	epoch uint64
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

func newTTLMap[V any](max int) ttlMap[V] {
	return ttlMap[V]{m: map[string]ttlEntry[V]{}, max: max}
}

func (c *ttlMap[V]) get(key string, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// begin returns the epoch to pass to put after reading from the database.
func (c *ttlMap[V]) begin() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epoch
}

func (c *ttlMap[V]) put(key string, v V, epoch uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		return
	}
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[key] = ttlEntry[V]{v: v, expires: now.Add(CacheTTL)}
}

func (c *ttlMap[V]) delete(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	delete(c.m, key)
}

// update changes key's cached value in place, when there is one, without
// bumping the epoch: for this process's own writes whose effect it knows
// (a touched session), where a racing read storing the older row is
// harmless.
func (c *ttlMap[V]) update(key string, change func(*V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		change(&e.v)
		c.m[key] = e
	}
}

// forget drops key without bumping the epoch: for this process's own
// writes whose effect it does not know (a touch that failed), where a
// racing read storing the older row is harmless.
func (c *ttlMap[V]) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

func (c *ttlMap[V]) deleteFunc(del func(string, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for k, e := range c.m {
		if del(k, e.v) {
			delete(c.m, k)
		}
	}
}

func (c *ttlMap[V]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.m)
}

// cloneUser copies u deeply enough that a caller's change to the copy
// cannot reach the cache.
func cloneUser(u model.User) *model.User {
	u.Roles = slices.Clone(u.Roles)
	return &u
}

// cloneKey copies k deeply enough that a caller's change to the copy
// cannot reach the cache.
func cloneKey(k model.APIKey) *model.APIKey {
	k.Scopes = slices.Clone(k.Scopes)
	if k.LastUsedAt != nil {
		t := *k.LastUsedAt
		k.LastUsedAt = &t
	}
	if k.RevokedAt != nil {
		t := *k.RevokedAt
		k.RevokedAt = &t
	}
	return &k
}
