package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/sdk/abi"
)

var wasmHeader = []byte("\x00asm\x01\x00\x00\x00")

func TestCheck(t *testing.T) {
	e := newEngine(t, Options{})
	info, err := e.Check(context.Background(), guestWasm)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(guestWasm)
	if info.ABIVersion != abi.Version || info.SHA256 != hex.EncodeToString(sum[:]) || info.Size != len(guestWasm) ||
		!slices.Contains(info.Exports, abi.ExportHandle) || !slices.Contains(info.Imports, "portico.host_call") {
		t.Fatalf("info: %+v", info)
	}
	if !slices.IsSorted(info.Imports) || len(slices.Compact(slices.Clone(info.Imports))) != len(info.Imports) {
		t.Errorf("imports are not listed once each, sorted: %v", info.Imports)
	}
	importEnv := append(slices.Clone(wasmHeader),
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
		0x02, 0x09, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'f', 0x00, 0x00) // import env.f
	tests := []struct {
		name string
		wasm []byte
		code string
	}{
		{"empty", nil, "not_wasm"},
		{"text", []byte("hello, world"), "not_wasm"},
		{"too large", append(slices.Clone(wasmHeader), make([]byte, MaxModuleBytes)...), "too_large"},
		{"garbage section", append(slices.Clone(wasmHeader), 0x01, 0x05, 0xff), "compile"},
		{"no exports", wasmHeader, "missing_export"},
		{"foreign import", importEnv, "bad_import"},
		{"other abi version", tinyModule(2), "abi_version"},
		{"initialisation traps", tinyModule(1, 0x00, 0x0b), "init"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Check(context.Background(), tt.wasm)
			var me *ModuleError
			if !errors.As(err, &me) || me.Code != tt.code {
				t.Fatalf("got %v, want code %q", err, tt.code)
			}
			if tt.code == "abi_version" && (me.Want != 1 || me.Got != 2 || !strings.Contains(me.Error(), "this host speaks version 1")) {
				t.Fatalf("abi_version error: %+v %q", me, me.Error())
			}
		})
	}
}

// TestCompilationCacheReuse checks that an engine writes compiled code to
// its cache directory and that a new engine on it works; the timings of a
// real guest are in BenchmarkStartup.
func TestCompilationCacheReuse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	ctx := context.Background()
	var times [2]time.Duration
	for i := range times {
		e, err := New(ctx, Options{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := e.Check(ctx, tinyModule(1)); err != nil {
			t.Fatal(err)
		}
		times[i] = time.Since(start)
		if err := e.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) == 0 {
		t.Fatal("compilation cache directory is empty")
	}
	t.Logf("compile: cold %s, from the on-disk cache after a restart %s", times[0], times[1])
}

// TestEvict checks that Evict drops the compiled module and pool: the next
// call loads the module again.
func TestEvict(t *testing.T) {
	e := newEngine(t, Options{})
	loads := 0
	load := func(context.Context) ([]byte, error) { loads++; return guestWasm, nil }
	p := testPlugin("t1", "ev")
	for range 2 {
		if _, err := e.Call(context.Background(), p, load, &abi.Input{Kind: abi.KindRender}); err != nil {
			t.Fatal(err)
		}
	}
	e.Evict("t1", p.VersionID)
	if _, err := e.Call(context.Background(), p, load, &abi.Input{Kind: abi.KindRender}); err != nil {
		t.Fatal(err)
	}
	if loads != 2 {
		t.Fatalf("%d loads, want 2", loads)
	}
	failing := func(context.Context) ([]byte, error) { return nil, errors.New("version row gone") }
	q := testPlugin("t1", "gone")
	if _, err := e.Call(context.Background(), q, failing, &abi.Input{Kind: abi.KindRender}); reasonOf(err) != ReasonLoad {
		t.Fatalf("failing load: %v", err)
	}
	bad := func(context.Context) ([]byte, error) { return wasmHeader, nil }
	r := testPlugin("t1", "bad")
	if _, err := e.Call(context.Background(), r, bad, &abi.Input{Kind: abi.KindRender}); reasonOf(err) != ReasonLoad {
		t.Fatalf("bad module: %v", err)
	}
}

// TestNewVersionDropsOldPools checks that the first call of a plugin's new
// version frees the pools of its other versions in that tenant (a process
// that did not handle the activation is never told to Evict), and leaves
// other plugins and other tenants alone.
func TestNewVersionDropsOldPools(t *testing.T) {
	e := newEngine(t, Options{})
	ctx := context.Background()
	in := &abi.Input{Kind: abi.KindRender}
	v1 := testPlugin("t1", "pv")
	other := testPlugin("t1", "other")
	otherTenant := testPlugin("t2", "pv")
	for _, p := range []Plugin{v1, other, otherTenant} {
		if _, err := e.Call(ctx, p, loadGuest, in); err != nil {
			t.Fatal(err)
		}
	}
	v2 := v1
	v2.VersionID = "v-pv-2"
	if _, err := e.Call(ctx, v2, loadGuest, in); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, tc := range []struct {
		key  poolKey
		want bool
	}{
		{poolKey{"t1", v1.VersionID}, false},
		{poolKey{"t1", v2.VersionID}, true},
		{poolKey{"t1", other.VersionID}, true},
		{poolKey{"t2", otherTenant.VersionID}, true},
	} {
		if _, ok := e.pools[tc.key]; ok != tc.want {
			t.Errorf("pool %v present = %v, want %v", tc.key, ok, tc.want)
		}
	}
}
