package storage_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/registry"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestRegistryReadAfterChangeIsFresh: a request that starts after a
// plugin change committed never gets the plugin list of a read that began
// before it (by joining that read's flight), even while that read is
// still under way.
func TestRegistryReadAfterChangeIsFresh(t *testing.T) {
	st := testdb.Open(t, "sqlite")
	ctx := context.Background()
	ten := newTenant(t, st, "acme", "acme.test")
	p := newPlugin("boleto", 1)
	p.Title = "Antigo"
	testdb.Must(t, st.CreatePlugin(ctx, ten.ID, p, testActor), "create")
	// The first read of the plugins is held after its query ran, until
	// released.
	var armed atomic.Bool
	read, release := make(chan struct{}), make(chan struct{})
	testdb.Must(t, storage.GormForTest(st).Callback().Query().After("gorm:query").Register("test:hold", func(tx *gorm.DB) {
		if tx.Statement.Table == "plugins" && armed.CompareAndSwap(true, false) {
			close(read)
			<-release
		}
	}), "register hook")
	r := registry.New(st, time.Minute)
	armed.Store(true)
	first := make(chan []model.Plugin, 1)
	go func() {
		ps, err := r.Plugins(ctx, ten.ID)
		if err != nil {
			t.Errorf("first read: %v", err)
		}
		first <- ps
	}()
	<-read // the first read holds the old list
	_, err := st.UpdatePlugin(ctx, ten.ID, "boleto", 1, testActor, model.AuditPluginUpdate, func(pl *model.Plugin) error {
		pl.Title = "Novo"
		return nil
	})
	testdb.Must(t, err, "update")
	second := make(chan []model.Plugin, 1)
	go func() {
		ps, err := r.Plugins(ctx, ten.ID)
		if err != nil {
			t.Errorf("second read: %v", err)
		}
		second <- ps
	}()
	var got []model.Plugin
	select {
	case got = <-second:
	case <-time.After(2 * time.Second):
		close(release) // it joined the held read: let both end
		got = <-second
		release = nil
	}
	if release != nil {
		close(release)
	}
	if old := <-first; len(old) != 1 || old[0].Title != "Antigo" {
		t.Fatalf("the first read did not hold the old list: %+v", old)
	}
	if len(got) != 1 || got[0].Title != "Novo" {
		t.Errorf("a read started after the change committed got %+v, want the new title", got)
	}
}
