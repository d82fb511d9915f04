package sandbox

import (
	"reflect"
	"sync/atomic"

	"github.com/tetratelabs/wazero/api"
)

// wasmPage is the size of a WebAssembly memory page.
const wasmPage = 64 << 10

// linearMemory backs one instance's wasm memory and refuses to grow beyond
// the plugin's limit, remembering that it refused (so an out-of-memory
// abort is reported as ReasonMemory, not as a plain trap).
//
// Two backings exist. The portable one is a Go slice, rewound by copying the
// post-initialisation image back (copy reset). On Linux the memory is an
// mmap reservation of the whole limit whose image part is a private mapping
// of a memfd holding the post-initialisation image (copy-on-write reset):
// rewinding is one madvise(MADV_DONTNEED), after which the kernel serves the
// image's pages again and only the pages the next call writes are copied.
// The buffer never moves in either case while its capacity suffices.
type linearMemory struct {
	buf     []byte
	limit   uint64
	refused atomic.Bool
	// hw is the largest length handed out since the last rewind: the bytes
	// beyond the image that a call may have written.
	hw int
	// mapped is the mmap reservation (len = limit) backing buf; nil for a
	// Go slice.
	mapped []byte
	// cow is true once the image part of mapped is a private mapping of
	// the image memfd; image is then a read-only view of that memfd, hot
	// marks the image pages restored by copying after every call (hotList
	// lists them) and pm is a buffer for pagemap entries.
	cow     bool
	image   []byte
	hot     []bool
	hotList []int
	pm      []byte
}

func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.refused.Store(true)
		return nil
	}
	switch {
	case m.mapped != nil:
		if size > uint64(len(m.mapped)) {
			m.refused.Store(true)
			return nil
		}
		m.buf = m.mapped[:size:size]
	case size <= uint64(cap(m.buf)):
		m.buf = m.buf[:size]
	default:
		newCap := min(max(size, 2*uint64(cap(m.buf))), m.limit)
		nb := make([]byte, size, newCap)
		copy(nb, m.buf)
		m.buf = nb
	}
	m.hw = max(m.hw, int(size))
	return m.buf
}

func (m *linearMemory) Free() {
	if m.mapped != nil {
		unmapMemory(m.mapped)
		unmapMemory(m.image)
		m.mapped, m.image = nil, nil
	}
	m.buf = nil
}

// rewind restores the first len(image) bytes to the image (image is unused
// by a copy-on-write memory, whose image lives in its memfd) and zeroes what
// a call may have written beyond it, releasing it when the memory is mapped
// (releaseAbove). It reports false when the instance should be replaced: a
// Go slice cannot give memory back, so one that a call grew more than
// RecycleGrowth beyond the image is not kept (its capacity stays below
// twice the image plus RecycleGrowth).
func (m *linearMemory) rewind(image []byte, imageLen int) bool {
	hw := max(m.hw, len(m.buf))
	switch {
	case m.cow:
		// The pages the call wrote in the image are copied back; what it
		// wrote above the image is zeroed.
		if !m.rewindCOW(imageLen) {
			return false
		}
		m.releaseAbove(imageLen, hw)
	default:
		base := m.buf
		if m.mapped != nil {
			base = m.mapped
		}
		if len(image) != imageLen || cap(base) < hw {
			return false
		}
		if m.mapped == nil && hw-imageLen > RecycleGrowth {
			// A Go slice cannot give pages back: the instance is replaced
			// rather than kept with what the call grew.
			return false
		}
		copy(base[:imageLen], image)
		if m.mapped != nil {
			m.releaseAbove(imageLen, hw)
		} else {
			clear(base[imageLen:hw])
		}
	}
	m.hw = imageLen
	return true
}

// residentSlack is how much of the memory a call wrote above the image a
// mapped memory keeps resident (zeroed) for the next call; the rest is
// given back to the kernel.
const residentSlack = 1 << 20

// releaseAbove zeroes mapped[from:to], what a call wrote above the image:
// the first residentSlack bytes by clearing them (cheaper than faulting
// them in again on the next call), the rest by releasing the pages
// (madvise MADV_DONTNEED: they read back as zero and take no memory until
// written again), so an idle instance does not keep what one call grew.
func (m *linearMemory) releaseAbove(from, to int) {
	keep := min(to, alignPage(from+residentSlack))
	clear(m.mapped[from:keep])
	if keep < to && releasePages(m.mapped[keep:alignPage(to)]) != nil {
		clear(m.mapped[keep:to])
	}
}

func alignPage(n int) int {
	const p = 4096
	return (n + p - 1) &^ (p - 1)
}

// memoryShrinker sets a wazero memory back to a smaller size. wazero has no
// API to shrink a memory; after a rewind the guest's allocator (Go's sbrk)
// believes the memory is as large as in the image and grows it again, so
// without shrinking every call would leave the memory a little larger.
// It sets the exported Buffer field of wazero's memory instance one page
// below the wanted size and grows it by one page through the public Grow,
// which re-reads the buffer from our allocator and tells the compiled code
// the new bounds. When wazero's memory type does not have the field, ok is
// false and the pool falls back to replacing grown instances.
type memoryShrinker struct {
	field reflect.Value
}

func newMemoryShrinker(mem api.Memory) (memoryShrinker, bool) {
	v := reflect.ValueOf(mem)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return memoryShrinker{}, false
	}
	f := v.Elem().FieldByName("Buffer")
	if !f.IsValid() || !f.CanSet() || f.Type() != reflect.TypeFor[[]byte]() {
		return memoryShrinker{}, false
	}
	return memoryShrinker{field: f}, true
}

// shrink makes mem, backed by m, size bytes long (a multiple of wasmPage,
// at least one page, at most its current size).
func (s memoryShrinker) shrink(mem api.Memory, m *linearMemory, size int) bool {
	if len(m.buf) == size {
		return true
	}
	if !s.field.IsValid() || size < wasmPage || size%wasmPage != 0 || size > len(m.buf) {
		return false
	}
	m.buf = m.buf[:size-wasmPage]
	s.field.Set(reflect.ValueOf(m.buf))
	if _, ok := mem.Grow(1); !ok {
		return false
	}
	return int(mem.Size()) == size && len(m.buf) == size
}
