package sandbox

import (
	"io/fs"
	"syscall"
	"time"
)

// usedAt is when a cache file was last written or, as far as the file
// system records it, read: wazero reads a module's file each time it
// loads the module from the cache, and Linux's default relatime updates
// the access time at least once a day, so a module in use is not taken
// for an old one (on a noatime mount it is the write time).
func usedAt(info fs.FileInfo) time.Time {
	t := info.ModTime()
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		if a := time.Unix(st.Atim.Sec, st.Atim.Nsec); a.After(t) {
			t = a
		}
	}
	return t
}
