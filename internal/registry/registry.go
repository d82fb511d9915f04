// Package registry caches what every request needs and rarely changes: the
// tenant behind a hostname and each tenant's plugin registrations.
//
// Entries are dropped when a change is announced (the store's OnChange
// hook): at once in the process that wrote it, and on every other node as
// soon as its change listener hears it (storage.Store.Listen). While the
// store is not Coherent (PostgreSQL with its listener down) cached entries
// are not served. The short TTL is only a safety net.
package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/sdk/abi"
)

// DefaultTTL is how long a cached entry lives without an invalidation.
const DefaultTTL = 5 * time.Second

// maxHosts bounds the host cache; unknown hosts are never cached, so only
// real tenants' hostnames can fill it.
const maxHosts = 10_000

// Registry is safe for concurrent use.
type Registry struct {
	store *storage.Store
	ttl   time.Duration
	now   func() time.Time
	group singleflight.Group

	mu sync.RWMutex
	// gen counts invalidations: a value read from the store is cached
	// only if no invalidation happened while it was read, so a change is
	// never overwritten by the value it replaced.
	gen     uint64
	hosts   map[string]hostEntry
	plugins map[string]pluginsEntry
}

type hostEntry struct {
	tenant  *model.Tenant
	expires time.Time
}

type pluginsEntry struct {
	plugins []model.Plugin
	expires time.Time
}

// New returns a registry over store and subscribes it to store changes.
func New(store *storage.Store, ttl time.Duration) *Registry {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	r := &Registry{store: store, ttl: ttl, now: time.Now, hosts: map[string]hostEntry{}, plugins: map[string]pluginsEntry{}}
	store.OnChange(func(ch storage.Change) {
		switch ch.Kind {
		case storage.ChangeTenant:
			r.Invalidate(ch.TenantID)
		case storage.ChangeAll:
			r.InvalidateAll()
		}
	})
	return r
}

// InvalidateAll drops everything cached.
func (r *Registry) InvalidateAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	clear(r.plugins)
	clear(r.hosts)
}

// Invalidate drops everything cached about tenantID.
func (r *Registry) Invalidate(tenantID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	delete(r.plugins, tenantID)
	for h, e := range r.hosts {
		if e.tenant.ID == tenantID {
			delete(r.hosts, h)
		}
	}
}

func (r *Registry) generation() uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.gen
}

// TenantByHost returns the tenant answering on a normalised hostname, or
// model.ErrNotFound.
func (r *Registry) TenantByHost(ctx context.Context, host string) (*model.Tenant, error) {
	now := r.now()
	r.mu.RLock()
	e, ok := r.hosts[host]
	r.mu.RUnlock()
	if ok && now.Before(e.expires) && r.store.Coherent() {
		return e.tenant, nil
	}
	// The flight is named by the generation too: a request that starts
	// after an invalidation never joins a read that began before it.
	gen := r.generation()
	v, err, _ := r.group.Do("host:"+host+"\x00"+strconv.FormatUint(gen, 10), func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storage.SharedReadTimeout)
		defer cancel()
		t, err := r.store.TenantByHost(rctx, host)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		if r.gen == gen {
			if len(r.hosts) >= maxHosts {
				clear(r.hosts)
			}
			r.hosts[host] = hostEntry{tenant: t, expires: now.Add(r.ttl)}
		}
		r.mu.Unlock()
		return t, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*model.Tenant), nil
}

// Plugins returns tenantID's live plugins in menu order. The slice is shared:
// callers must not modify it.
func (r *Registry) Plugins(ctx context.Context, tenantID string) ([]model.Plugin, error) {
	now := r.now()
	r.mu.RLock()
	e, ok := r.plugins[tenantID]
	r.mu.RUnlock()
	if ok && now.Before(e.expires) && r.store.Coherent() {
		return e.plugins, nil
	}
	gen := r.generation() // in the flight's name, as in TenantByHost
	v, err, _ := r.group.Do("plugins:"+tenantID+"\x00"+strconv.FormatUint(gen, 10), func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storage.SharedReadTimeout)
		defer cancel()
		ps, err := r.store.Plugins(rctx, tenantID)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		if r.gen == gen {
			r.plugins[tenantID] = pluginsEntry{plugins: ps, expires: now.Add(r.ttl)}
		}
		r.mu.Unlock()
		return ps, nil
	})
	if err != nil {
		return nil, fmt.Errorf("load plugins: %w", err)
	}
	return v.([]model.Plugin), nil
}

// MenuEntry is one item of a menu, as the JSON API and the portal show it.
type MenuEntry struct {
	Slug   string           `json:"slug"`
	Title  string           `json:"title"`
	Icon   string           `json:"icon"`
	Type   model.PluginType `json:"type"`
	Path   string           `json:"path"`
	Width  int              `json:"width"`
	Height int              `json:"height"`
	Size   model.Size       `json:"size"`
	// HomeCard reports whether the plugin's card is shown on its home
	// tile (a published wasm plugin whose gestor turned it on).
	HomeCard bool `json:"-"`
	// Card is the card the portal's home drew for this tile, or nil; it
	// is set by the portal, never by the registry.
	Card *abi.View `json:"-"`
	// CardMissing marks a tile whose card was asked for but not ready in
	// time (or failed): the home shows a quiet placeholder.
	CardMissing bool `json:"-"`
}

func entry(p *model.Plugin, locale string) MenuEntry {
	return MenuEntry{Slug: p.Slug, Title: p.TitleIn(locale), Icon: p.Icon, Type: p.Type, Path: "/p/" + p.Slug, Width: p.Width, Height: p.Height, Size: p.Size,
		HomeCard: p.HomeCard && p.Type == model.PluginWasm}
}

// Menu returns the portal menu of someone browsing tenantID as role, with
// the titles in locale.
func (r *Registry) Menu(ctx context.Context, tenantID string, role model.Role, locale string) ([]MenuEntry, error) {
	ps, err := r.Plugins(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []MenuEntry{}
	for i := range ps {
		if ps[i].InPortalMenu(role) {
			out = append(out, entry(&ps[i], locale))
		}
	}
	return out, nil
}

// Panel returns the manager-panel entries of tenantID, with the titles in
// locale.
func (r *Registry) Panel(ctx context.Context, tenantID, locale string) ([]MenuEntry, error) {
	ps, err := r.Plugins(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []MenuEntry{}
	for i := range ps {
		if ps[i].InManagerPanel() {
			out = append(out, entry(&ps[i], locale))
		}
	}
	return out, nil
}

// ErrHidden is returned by Plugin for a plugin that exists but that the user
// may not open; callers answer exactly as for a missing one.
var ErrHidden = errors.New("plugin not visible to this user")

// Plugin returns the plugin slug of tenantID if u may open it.
func (r *Registry) Plugin(ctx context.Context, tenantID, slug string, u *model.User) (*model.Plugin, error) {
	ps, err := r.Plugins(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		if ps[i].Slug == slug {
			if !ps[i].VisibleToUser(u) {
				return nil, ErrHidden
			}
			p := ps[i]
			return &p, nil
		}
	}
	return nil, model.ErrNotFound
}
