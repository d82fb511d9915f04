package sandbox

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// residentBytes is how much of inst's memory reservation is in RAM.
func residentBytes(tb testing.TB, inst *instance) int {
	tb.Helper()
	m := inst.mem.mapped
	if m == nil {
		tb.Fatal("the instance's memory is not mapped")
	}
	vec := make([]byte, (len(m)+4095)/4096)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(m))), uintptr(len(m)),
		uintptr(unsafe.Pointer(unsafe.SliceData(vec)))); errno != 0 {
		tb.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n * 4096
}

// processRSS is the process's resident set from /proc/self/status.
func processRSS(tb testing.TB) int {
	tb.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, err := strconv.Atoi(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))))
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// TestGrownMemoryIsReleased runs a call that allocates and writes 120 MiB
// and succeeds: the pooled instance keeps its memory reservation but not
// the pages, so it holds about its image again, not 120 MiB (before, the
// rewind zeroed the grown pages and kept them resident). It was 200 MiB,
// which took more than the 10 s ceiling once under -race on CI's busy cores.
func TestGrownMemoryIsReleased(t *testing.T) {
	e := newEngine(t, Options{PoolSize: 1})
	p := testPlugin("t1", "grow")
	p.Limits = Limits{Timeout: MaxTimeout, MemoryMB: 256}
	if _, err := call(e, p, "noop"); err != nil {
		t.Fatal(err)
	}
	inst := idleInstance(t, e, p)
	base := residentBytes(t, inst)
	rssBefore := processRSS(t)
	if out, err := call(e, p, "bigalloc", "mb", "120"); err != nil || text(t, out) != "ok" {
		t.Fatalf("bigalloc: %v", err)
	}
	if idleInstance(t, e, p) != inst {
		t.Fatal("the instance was not reused; the test would prove nothing")
	}
	after := residentBytes(t, inst)
	rssAfter := processRSS(t)
	t.Logf("instance resident: %d KiB after noop, %d KiB after a 120 MiB call; process RSS %+d KiB",
		base>>10, after>>10, (rssAfter-rssBefore)>>10)
	if after > base+16<<20 {
		t.Errorf("instance holds %d MiB after the call, %d MiB before", after>>20, base>>20)
	}
	if rssAfter-rssBefore > 64<<20 {
		t.Errorf("process RSS grew by %d MiB", (rssAfter-rssBefore)>>20)
	}
	// The released pages read back as zero and the memory works.
	if out, err := call(e, p, "bigalloc", "mb", "100"); err != nil || text(t, out) != "ok" {
		t.Fatalf("bigalloc after release: %v", err)
	}
}
