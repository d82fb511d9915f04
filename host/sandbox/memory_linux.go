package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cowSupported reports whether copy-on-write memories are available.
const cowSupported = true

// reserveMemory reserves size bytes of address space for a linear memory
// (no physical memory until touched).
func reserveMemory(size int) ([]byte, error) {
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("mmap %d bytes: %w", size, err)
	}
	return b, nil
}

func unmapMemory(b []byte) {
	if b != nil {
		_ = unix.Munmap(b)
	}
}

// releasePages gives the pages of b (page-aligned) back to the kernel:
// they read as zero afterwards.
func releasePages(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := unix.Madvise(b, unix.MADV_DONTNEED); err != nil {
		return fmt.Errorf("madvise: %w", err)
	}
	return nil
}

// freeze turns the first n bytes of the memory (its current contents) into
// a private mapping of a memfd holding those bytes, at the same address.
func (m *linearMemory) freeze(n int) error {
	if m.mapped == nil || n <= 0 || n%4096 != 0 || n > len(m.mapped) {
		return fmt.Errorf("cannot freeze %d bytes", n)
	}
	// Without a readable pagemap the rewind could not find written pages:
	// the caller keeps the copy reset.
	if f := pagemap(); f == nil {
		return errors.New("/proc/self/pagemap is not readable")
	} else if _, err := unix.Pread(int(f.Fd()), make([]byte, 8), int64(uintptr(unsafe.Pointer(unsafe.SliceData(m.mapped)))/4096*8)); err != nil {
		return fmt.Errorf("read pagemap: %w", err)
	}
	fd, err := unix.MemfdCreate("portico-wasm-image", unix.MFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("memfd_create: %w", err)
	}
	defer unix.Close(fd)
	for off := 0; off < n; {
		w, err := unix.Pwrite(fd, m.mapped[off:n], int64(off))
		if err != nil {
			return fmt.Errorf("write image: %w", err)
		}
		off += w
	}
	// MAP_FIXED replaces the anonymous pages at the same address: the slice
	// wazero holds stays valid. The mapping keeps the memfd alive.
	if _, err := unix.MmapPtr(fd, 0, unsafe.Pointer(unsafe.SliceData(m.mapped)), uintptr(n),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED); err != nil {
		return fmt.Errorf("map image: %w", err)
	}
	// A shared read-only view of the same memfd is the source of the
	// pages copied back (no second copy of the image in memory).
	image, err := unix.Mmap(fd, 0, n, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("map image view: %w", err)
	}
	m.image = image
	m.hot = make([]bool, n/4096)
	m.cow = true
	return nil
}

// pagemap is /proc/self/pagemap, opened once; nil when unreadable.
var pagemap = sync.OnceValue(func() *os.File {
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return nil
	}
	return f
})

// rewindCOW restores the image part of a copy-on-write memory. A page the
// guest wrote is no longer the memfd's page but a private copy, which
// /proc/self/pagemap shows (present and not file-backed, or swapped out).
// Such a page is copied back from the image and joins the hot set, which
// is copied back after every call from then on (it stays a private copy,
// so pagemap can no longer tell whether it was written). Pages only read
// stay the memfd's and cost nothing. A guest touching all its memory ends
// up costing what the copy reset costs.
func (m *linearMemory) rewindCOW(imageLen int) bool {
	const page = 4096
	for _, p := range m.hotList {
		copy(m.mapped[p*page:(p+1)*page], m.image[p*page:])
	}
	f := pagemap()
	if f == nil {
		return false
	}
	n := imageLen / page
	if cap(m.pm) < 8*n {
		m.pm = make([]byte, 8*n)
	}
	buf := m.pm[:8*n]
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.mapped)))
	for off := 0; off < len(buf); {
		r, err := unix.Pread(int(f.Fd()), buf[off:], int64(base/page*8)+int64(off))
		if err != nil || r <= 0 {
			return false
		}
		off += r
	}
	const present, swapped, fileOrShared = 1 << 63, 1 << 62, 1 << 61
	for i := range n {
		if m.hot[i] {
			continue
		}
		e := binary.LittleEndian.Uint64(buf[8*i:])
		if e&swapped != 0 || (e&present != 0 && e&fileOrShared == 0) {
			copy(m.mapped[i*page:(i+1)*page], m.image[i*page:])
			m.hot[i] = true
			m.hotList = append(m.hotList, i)
		}
	}
	return true
}
