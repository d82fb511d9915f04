package sandbox

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// PreloadItem names a plugin version to prepare at start-up and how to
// load its module.
type PreloadItem struct {
	Plugin Plugin
	Load   func(context.Context) ([]byte, error)
}

// Preload prepares plugin versions before their first call, as many at
// once as there are CPUs: each module is compiled (from the on-disk cache
// after a restart) and one instance is initialised and pooled, so first
// calls find a warm instance. It returns when all are done, with the
// failures joined; a plugin that failed is loaded again at its first call.
// Run it in the background at start-up: calls meanwhile load what they need
// themselves (a module is compiled once either way).
func (e *Engine) Preload(ctx context.Context, items []PreloadItem) error {
	ctx, leave, err := e.enter(ctx)
	if err != nil {
		return err
	}
	defer leave()
	work := make(chan PreloadItem)
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range min(runtime.GOMAXPROCS(0), len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				err := e.preloadOne(ctx, it)
				mu.Lock()
				errs[next] = err
				next++
				mu.Unlock()
			}
		}()
	}
	for _, it := range items {
		select {
		case work <- it:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}

func (e *Engine) preloadOne(ctx context.Context, it PreloadItem) error {
	p := it.Plugin
	p.Limits = p.Limits.normalize()
	lctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	pl, err := e.getPool(lctx, &p, it.Load)
	if err != nil {
		return fmt.Errorf("preload %s/%s: %w", p.TenantID, p.VersionID, err)
	}
	pl.mu.Lock()
	if pl.memMB == 0 {
		pl.memMB = p.Limits.MemoryMB
	}
	ready := len(pl.idle) > 0 || pl.memMB != p.Limits.MemoryMB
	pl.mu.Unlock()
	if ready {
		return nil
	}
	ictx, icancel := context.WithTimeout(ctx, p.Limits.Timeout) // _initialize runs under the call's deadline
	defer icancel()
	inst, err := e.newInstance(ictx, pl, p.Limits.MemoryMB, false)
	if err != nil {
		return fmt.Errorf("preload %s/%s: %w", p.TenantID, p.VersionID, err)
	}
	e.put(pl, inst, e.opts.PoolSize)
	return nil
}
