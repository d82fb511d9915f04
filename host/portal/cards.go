package portal

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/sync/singleflight"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/registry"
	"github.com/portico-dev/portico/sdk/abi"
)

// Home cards: a wasm plugin whose gestor turned on its card shows a short
// view (its card handler's, checked as a card) on its tile of the home
// page. The home never waits more than CardDeadline for all of them
// together; a card not ready by then, or failed, leaves a quiet
// placeholder on the tile. A call that outlives the deadline goes on (up
// to the plugin's own timeout) and its card is kept for the next visit.
// Cards are kept per (plugin version and settings, user, role, language)
// for CardTTL, a failure for CardFailTTL, in this process.
const (
	CardDeadline = 800 * time.Millisecond
	CardTTL      = time.Minute
	CardFailTTL  = 15 * time.Second
	MaxCardsKept = 10_000
)

// cards keeps home cards and deduplicates concurrent calls for the same
// one (two tabs, a reload while a slow card is still running).
type cards struct {
	flight singleflight.Group
	mu     sync.Mutex
	kept   map[string]keptCard
	now    func() time.Time
}

type keptCard struct {
	view  *abi.View // nil: the call failed
	until time.Time
}

func newCards() *cards { return &cards{kept: map[string]keptCard{}, now: time.Now} }

func (cs *cards) get(key string) (keptCard, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	k, ok := cs.kept[key]
	if !ok || !cs.now().Before(k.until) {
		return keptCard{}, false
	}
	return k, true
}

func (cs *cards) put(key string, v *abi.View) {
	ttl := CardTTL
	if v == nil {
		ttl = CardFailTTL
	}
	now := cs.now()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.kept) >= MaxCardsKept {
		for k, e := range cs.kept {
			if !now.Before(e.until) {
				delete(cs.kept, k)
			}
		}
		if len(cs.kept) >= MaxCardsKept {
			clear(cs.kept) // bounded memory beats a warm cache
		}
	}
	cs.kept[key] = keptCard{view: v, until: now.Add(ttl)}
}

// fillCards sets the cards of the menu's tiles that have one, waiting at
// most CardDeadline.
func (p *Portal) fillCards(c *fiber.Ctx, v *view, menu []registry.MenuEntry) {
	if p.runner == nil {
		return
	}
	var want []int
	for i := range menu {
		if menu[i].HomeCard {
			want = append(want, i)
		}
	}
	if len(want) == 0 {
		return
	}
	plugins, err := p.env.Registry.Plugins(c.UserContext(), v.Tenant.ID)
	if err != nil {
		p.env.Log.Warn("home cards: plugins", "err", err)
		return
	}
	bySlug := make(map[string]*model.Plugin, len(plugins))
	for i := range plugins {
		bySlug[plugins[i].Slug] = &plugins[i]
	}
	type answer struct {
		i    int
		view *abi.View
	}
	answers := make(chan answer, len(want))
	reqCtx := c.UserContext()
	timer := time.NewTimer(CardDeadline)
	defer timer.Stop()
	// done releases the goroutines still waiting for a card when the page
	// stops waiting: the call goes on (shared with the next requests for
	// the same card), its waiters here do not.
	done := make(chan struct{})
	defer close(done)
	pending := 0
	for _, i := range want {
		pl := bySlug[menu[i].Slug]
		if pl == nil {
			continue
		}
		// The call may outlive the request: nothing in it may point into
		// the request's buffers, which fasthttp reuses (hence the clone).
		call := runner.Call{Tenant: v.Tenant, User: v.User, Role: model.Role(strings.Clone(string(pl.OpenAs(v.User, v.Role)))), Locale: strings.Clone(v.L.Locale()),
			Plugin: pl, Card: true, RequestID: strings.Clone(c.GetRespHeader(fiber.HeaderXRequestID))}
		key := cardKey(call)
		if k, ok := p.cards.get(key); ok {
			menu[i].Card, menu[i].CardMissing = k.view, k.view == nil
			continue
		}
		menu[i].CardMissing = true
		pending++
		ch := p.cards.flight.DoChan(key, func() (any, error) {
			ctx := context.WithoutCancel(reqCtx)
			// Not the request's context: a card that misses this page's
			// deadline is kept for the next one (the plugin's timeout
			// still bounds it).
			res, err := p.runner.Run(ctx, call)
			var view *abi.View
			if err == nil && res.View != nil {
				view = res.View
			}
			p.cards.put(key, view)
			return view, nil
		})
		go func(i int) {
			select {
			case r := <-ch: // DoChan's channel is buffered: its sender never blocks
				view, _ := r.Val.(*abi.View)
				answers <- answer{i, view} // buffered for every card
			case <-done:
			}
		}(i)
	}
	for ; pending > 0; pending-- {
		select {
		case a := <-answers:
			menu[a.i].Card, menu[a.i].CardMissing = a.view, a.view == nil
		case <-timer.C:
			return
		}
	}
}

// cardKey names a card: the plugin's module and settings (version), who
// asks, as which role, in which language.
func cardKey(c runner.Call) string {
	p := c.Plugin
	return p.TenantID + "|" + p.ID + "|" + p.ActiveVersion + "|" + strconv.FormatInt(p.Version, 10) + "|" + c.User.ID + "|" + string(c.Role) + "|" + c.Locale
}
