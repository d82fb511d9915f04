package storage

import (
	"context"
	"sync"
	"sync/atomic"
)

// Bounds of kvHints: at most kvHintMaxKeys keys, each with a value of at
// most kvHintMaxValue bytes (a counter, a flag, a small record), so the
// hints of a node take a few megabytes at most whatever the plugins store.
const (
	kvHintMaxKeys  = 8192
	kvHintMaxValue = 256
)

// kvHints remembers, for the keys this process updated last, the value it
// left in the database, so that the next update of the key can skip the
// read of kvSwap and go straight to its compare-and-swap: one statement
// per write instead of two, on every plugin call that counts something.
//
// A hint is a guess, never an answer. It is only used as the value the
// compare-and-swap expects, and the database checks it: when another node,
// a delete or anything else changed the value since, the statement
// changes nothing and the update goes the ordinary way (kvSwap, then the
// transaction), from the value the database then holds. Since the swap
// compares values, not versions, a value changed and changed back is not a
// problem: a change is a function of the old value alone, so the same old
// value gives the same new one. The outcome a change gives without writing
// (an error, nothing to write, a value too long, a value that grows and
// must pass the quota) is never trusted from a hint: those go the ordinary
// way too. Reads (KVGet) never see hints.
type kvHints struct {
	mu sync.Mutex
	m  map[string]kvHint
	// swaps counts the writes made from a hint (kvSwapHinted), misses the
	// hinted swaps the database refused.
	swaps, misses atomic.Int64
}

// kvHint is one key's hint: the value, and how many updates of the key
// are still to go without it after a hinted swap the database refused.
type kvHint struct {
	v    []byte // nil: none
	skip int
}

// kvHintBackoff is how many updates of a key go without its hint after a
// hinted swap was refused. When nodes take turns on a key, every hint is
// stale and costs a statement that changes nothing; backing off keeps that
// to one update in kvHintBackoff+1.
const kvHintBackoff = 8

// get returns the value hinted for key k (cacheKey of tenant, plugin,
// key), unless the key's hints are backing off. The slice is the hint
// itself, not a copy: put never changes a stored value in place, and a
// change must not modify its old value.
func (h *kvHints) get(k string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.m[k]
	if !ok {
		return nil, false
	}
	if e.skip > 0 {
		e.skip--
		h.m[k] = e
		return nil, false
	}
	return e.v, e.v != nil
}

// put remembers v as the value of k in the database, or forgets it when v
// is too long to keep. v is copied: the caller may reuse it. A backoff
// under way goes on.
func (h *kvHints) put(k string, v []byte) {
	var c []byte
	if len(v) <= kvHintMaxValue {
		c = append(make([]byte, 0, len(v)), v...)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.m[k]
	e.v = c
	h.setLocked(k, e)
}

// miss records a hinted swap of k the database refused: k's updates go
// without a hint for the next kvHintBackoff.
func (h *kvHints) miss(k string) {
	h.misses.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.setLocked(k, kvHint{skip: kvHintBackoff})
}

// setLocked stores e for k, first evicting an arbitrary key when k is new
// and the hints are full.
func (h *kvHints) setLocked(k string, e kvHint) {
	if h.m == nil {
		h.m = make(map[string]kvHint)
	}
	if _, ok := h.m[k]; !ok && len(h.m) >= kvHintMaxKeys {
		for old := range h.m { // map order is random
			delete(h.m, old)
			break
		}
	}
	h.m[k] = e
}

// drop forgets k.
func (h *kvHints) drop(k string) {
	h.mu.Lock()
	delete(h.m, k)
	h.mu.Unlock()
}

// kvSwapHinted is kvSwap with the hinted value of k instead of a read (see
// kvHints). It reports done false, having written nothing, when there is
// no hint, when the hint is stale, or when the change's outcome from the
// hint is anything but a write that does not grow the value.
func (s *Store) kvSwapHinted(ctx context.Context, k, tenantID, pluginID, key string, change func(old []byte, found bool) ([]byte, bool, error)) (done bool, err error) {
	cur, ok := s.kvHints.get(k)
	if !ok {
		return false, nil
	}
	value, write, err := change(cur, true)
	if err != nil || !write || len(value) > len(cur) {
		return false, nil
	}
	if value == nil {
		value = []byte{}
	}
	swapped, err := s.swapKV(ctx, tenantID, pluginID, key, cur, value)
	if err != nil {
		s.kvHints.drop(k)
		return false, translate(err, "kv write")
	}
	if !swapped {
		s.kvHints.miss(k)
		return false, nil
	}
	s.kvHints.put(k, value)
	s.kvHints.swaps.Add(1)
	return true, nil
}
