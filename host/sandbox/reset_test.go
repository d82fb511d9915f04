package sandbox

import (
	"bytes"
	"context"
	"testing"

	"github.com/portico-dev/portico/sdk/abi"
)

// resetModes are the two ways an instance is rewound: copy-on-write (Linux)
// and the portable copy, which is also the reference.
func resetModes() []struct {
	name      string
	copyReset bool
} {
	modes := []struct {
		name      string
		copyReset bool
	}{{"copy", true}}
	if cowSupported {
		modes = append(modes, struct {
			name      string
			copyReset bool
		}{"cow", false})
	}
	return modes
}

// TestResetRestoresMemory checks that after a call the instance's memory
// (every byte, and its size) and globals are exactly those right after
// _initialize, for both reset paths: a call writes a marker in a package
// variable and in a heap buffer that grows the memory; after the rewind
// neither is anywhere in memory and the next call sees no previous state.
func TestResetRestoresMemory(t *testing.T) {
	ctx := context.Background()
	for _, mode := range resetModes() {
		t.Run(mode.name, func(t *testing.T) {
			e := newEngine(t, Options{})
			e.copyReset = mode.copyReset
			c, err := e.compile(ctx, guestWasm)
			if err != nil {
				t.Fatal(err)
			}
			if c.stop < 0 || c.rt != e.rt {
				t.Fatal("the test guest is not instrumented for deadlines")
			}
			inst, err := e.instantiateGlobals(ctx, c.cm, 64, c.prepared)
			if err != nil {
				t.Fatal(err)
			}
			defer inst.close()
			if inst.mem.cow == mode.copyReset {
				t.Fatalf("copy-on-write is %v, want %v", inst.mem.cow, !mode.copyReset)
			}
			if !inst.reusable || len(inst.globals) == 0 {
				t.Fatalf("instance not reusable (%d globals)", len(inst.globals))
			}
			image := memoryBytes(t, inst)
			gvals := globalValues(inst)
			p := testPlugin("t1", "reset-"+mode.name)
			p.Limits = p.Limits.normalize()
			st := e.state(p.TenantID, p.PluginID, p.Limits.MaxConcurrent)
			sizes := []string{"4", "8192", "1", "20000"} // 20,000 KiB grows past the image
			if mode.copyReset {
				sizes = sizes[:3] // see below
			}
			for i, kb := range sizes {
				marker := "MARKER-" + mode.name + kb
				in := &abi.Input{Kind: abi.KindAction, Action: "marker", Form: map[string][]string{"m": {mode.name + kb}, "kb": {kb}}}
				if _, cerr := e.run(ctx, &p, st, inst, nil, in); cerr != nil {
					t.Fatalf("call %d: %v", i, cerr)
				}
				if !bytes.Contains(memoryBytes(t, inst), []byte(marker)) {
					t.Fatalf("call %d: the marker is not in memory before the rewind", i)
				}
				if !inst.restore() {
					t.Fatalf("call %d: restore refused", i)
				}
				after := memoryBytes(t, inst)
				if len(after) != len(image) {
					t.Fatalf("call %d: memory is %d bytes after the rewind, %d after _initialize", i, len(after), len(image))
				}
				if !bytes.Equal(after, image) {
					t.Fatalf("call %d: memory differs from the post-initialisation image", i)
				}
				if bytes.Contains(after, []byte(marker)) {
					t.Fatalf("call %d: marker survived", i)
				}
				if got := globalValues(inst); !equalU64(got, gvals) {
					t.Fatalf("call %d: globals %v, want %v", i, got, gvals)
				}
			}
			// The guest itself sees no earlier state.
			in := &abi.Input{Kind: abi.KindAction, Action: "leak", Form: map[string][]string{"secret": {"x"}}}
			out, cerr := e.run(ctx, &p, st, inst, nil, in)
			if cerr != nil {
				t.Fatal(cerr)
			}
			if got := text(t, out); got != "" {
				t.Fatalf("next call saw %q", got)
			}
			if mode.copyReset {
				// A Go slice cannot give memory back: an instance a call
				// grew by more than RecycleGrowth is replaced, not rewound.
				in := &abi.Input{Kind: abi.KindAction, Action: "marker", Form: map[string][]string{"m": {"big"}, "kb": {"20000"}}}
				if _, cerr := e.run(ctx, &p, st, inst, nil, in); cerr != nil {
					t.Fatal(cerr)
				}
				if inst.restore() {
					t.Fatal("a copy-reset instance grown by 20,000 KiB was kept")
				}
			}
		})
	}
}

func memoryBytes(t *testing.T, inst *instance) []byte {
	t.Helper()
	m := inst.mod.Memory()
	b, ok := m.Read(0, m.Size())
	if !ok {
		t.Fatal("memory unreadable")
	}
	return bytes.Clone(b)
}

func globalValues(inst *instance) []uint64 {
	v := make([]uint64, len(inst.globals))
	for i, g := range inst.globals {
		v[i] = g.Get()
	}
	return v
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
