package sandbox

import (
	"fmt"
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

func unmapMemory(b []byte) { _ = unix.Munmap(b) }

// freeze turns the first n bytes of the memory (its current contents) into
// a private mapping of a memfd holding those bytes, at the same address.
func (m *linearMemory) freeze(n int) error {
	if m.mapped == nil || n <= 0 || n%4096 != 0 || n > len(m.mapped) {
		return fmt.Errorf("cannot freeze %d bytes", n)
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
	m.cow = true
	return nil
}

// adviseDontNeed drops the private pages of b: a private file mapping reads
// the file again, an anonymous one reads zeros.
func adviseDontNeed(b []byte) bool {
	return len(b) == 0 || unix.Madvise(b, unix.MADV_DONTNEED) == nil
}
