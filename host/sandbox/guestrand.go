package sandbox

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	mrand "math/rand/v2"
	"sync"
)

// Fresh runtime randomness for every call.
//
// Every call starts from the memory image taken after _initialize, so
// whatever random state a guest holds in memory would be replayed to every
// call: math/rand's top-level functions (v1 and v2), map seeds and
// hash/maphash all draw from the Go runtime's per-M ChaCha8 generator
// (runtime.m.chacha8, internal/chacha8rand.State), which the snapshot
// freezes. crypto/rand is not affected: it asks the host (random_get).
//
// The host cannot ask a guest where that state lives, but it can compute
// it. The Go runtime seeds its bootstrap generator with the first 32 bytes
// it reads from random_get (runtime.randinit), and seeds m0's generator
// with four values drawn from it (runtime.mrandinit, after a few drawn for
// the hash keys). math/rand/v2's ChaCha8 is the same generator, so the host
// records what random_get gave the instance, replays the candidate seeds
// and finds m0's buffer in the image by its content: 224 bytes of a known
// ChaCha8 block, an unambiguous match, followed by the State's counters
// with the values that block implies. Before each call it overwrites the
// buffer and the seed (and m0.cheaprand, the scheduler's generator behind
// it) with fresh bytes from crypto/rand. That keeps every invariant of
// State: buf and seed are plain data (Next returns buf[i], Refill derives
// the next block from seed), and the counters i, n, c are left alone. A
// module in which no state is found (not Go, an older Go, a changed
// layout) runs as before; TestMathRandFreshPerCall would fail on a Go
// release that changed the layout.
//
// The layout, from internal/chacha8rand and runtime.m (Go 1.22 onwards,
// GOARCH=wasm, 8-byte aligned):
//
//	buf  [32]uint64   +0
//	seed [4]uint64    +256
//	i, n, c uint32    +288, +292, +296
//	(m.cheaprand uint64 at +304)
const (
	randBufWords   = 32
	randCheckWords = 28 // the words of a block every chunk exposes
	randSeedOff    = 256
	randCounterOff = 288
	randCheapOff   = 304
	randStateEnd   = 312
	// randBootWindow is how many bootstrap values are tried as the
	// start of m0's seed, and randChunks how many blocks of m0's
	// generator (the runtime's own initialisation and the packages' init
	// functions draw from it) are looked for.
	randBootWindow = 8
	randChunks     = 256
	// randScanBytes bounds the memory searched for the state: m0 is a
	// static variable of the runtime, in the data and BSS below the Go
	// heap, and Go's linker places the runtime's small variables near the
	// start; a guest that grew its memory to the ceiling in _initialize
	// would otherwise cost seconds of the host's CPU per instance. A
	// guest with static arrays of tens of MiB before m0 goes unfound,
	// and its math/rand then repeats between calls.
	randScanBytes = 64 << 20
	// randAbsent is stored as the hint when an instance with recorded
	// seeds held no state: later instances of the module do not search.
	randAbsent = -2
)

// seedRecorder is an instance's random source: crypto/rand, recording the
// first reads (the Go runtime's seed is among them).
type seedRecorder struct {
	mu    sync.Mutex
	reads [][]byte
}

func (r *seedRecorder) Read(p []byte) (int, error) {
	n, err := io.ReadFull(randSource, p)
	r.mu.Lock()
	if len(r.reads) < 4 && n >= 32 {
		r.reads = append(r.reads, append([]byte(nil), p[:32]...))
	}
	r.mu.Unlock()
	return n, err
}

func (r *seedRecorder) seeds() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads
}

// randCandidate is one block m0's generator may hold: the bootstrap value
// its seed starts at and the block's index.
type randCandidate struct {
	boot, chunk int
	seed        [32]byte
}

// locateRuntimeRand returns the offset in mem of the Go runtime's m0
// generator state, or -1. hint, when not negative, is checked first (the
// state is a static variable: every instance of a module has it at the same
// offset).
func locateRuntimeRand(mem []byte, seeds [][]byte, hint int64) int {
	first := map[uint64]randCandidate{}
	for _, s := range seeds {
		boot := mrand.NewChaCha8([32]byte(s))
		var vals [randBootWindow + 3]uint64
		for i := range vals {
			vals[i] = boot.Uint64()
		}
		for j := range randBootWindow {
			var seed [32]byte
			for k := range 4 {
				binary.LittleEndian.PutUint64(seed[k*8:], vals[j+k])
			}
			g := mrand.NewChaCha8(seed)
			for c := range randChunks {
				w := g.Uint64()
				first[w] = randCandidate{boot: j, chunk: c, seed: seed}
				for range chunkLen(c) - 1 {
					g.Uint64()
				}
			}
		}
	}
	if len(first) == 0 {
		return -1
	}
	match := func(off int) bool {
		if off < 0 || off%8 != 0 || off+randStateEnd > len(mem) {
			return false
		}
		cand, ok := first[binary.LittleEndian.Uint64(mem[off:])]
		return ok && matchChunk(mem[off:off+randStateEnd], cand)
	}
	if match(int(hint)) {
		return int(hint)
	}
	for off := 0; off+randStateEnd <= min(len(mem), randScanBytes); off += 8 {
		if match(off) {
			return off
		}
	}
	return -1
}

// chunkLen is how many values ChaCha8 emits from its block c: the last of
// every four keeps its final four words as the next seed.
func chunkLen(c int) int {
	if c%4 == 3 {
		return randBufWords - 4
	}
	return randBufWords
}

// matchChunk reports whether st holds block cand.chunk of the generator
// seeded with cand.seed, with counters consistent with it.
func matchChunk(st []byte, cand randCandidate) bool {
	g := mrand.NewChaCha8(cand.seed)
	for c := range cand.chunk {
		for range chunkLen(c) {
			g.Uint64()
		}
	}
	for k := range randCheckWords {
		if binary.LittleEndian.Uint64(st[k*8:]) != g.Uint64() {
			return false
		}
	}
	i := binary.LittleEndian.Uint32(st[randCounterOff:])
	n := binary.LittleEndian.Uint32(st[randCounterOff+4:])
	c := binary.LittleEndian.Uint32(st[randCounterOff+8:])
	return n == uint32(chunkLen(cand.chunk)) && i <= n && c == uint32(4*(cand.chunk%4))
}

// refreshRand gives the instance's Go runtime generator fresh random
// state. It is a no-op for a module in which none was found.
func (inst *instance) refreshRand() error {
	if inst.randAt < 0 {
		return nil
	}
	var b [randCounterOff + 8]byte // buf, seed, then cheaprand
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		return err
	}
	buf := inst.mem.buf
	off := inst.randAt
	copy(buf[off:off+randCounterOff], b[:randCounterOff])
	cheap := b[randCounterOff : randCounterOff+8]
	if binary.LittleEndian.Uint64(cheap) == 0 {
		cheap[0] = 1 // xorshift's one fixed point
	}
	copy(buf[off+randCheapOff:off+randStateEnd], cheap)
	return nil
}
