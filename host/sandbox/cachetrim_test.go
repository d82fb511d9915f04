package sandbox

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestTrimCache: a cache within its budget is left alone; one over it
// loses its least recently used files until half the budget is left, in
// any subdirectory; a file written long ago but read lately (a module in
// use) stays.
func TestTrimCache(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "wazero-v1-amd64-linux")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour)
	for i := range 10 {
		p := filepath.Join(sub, string(rune('a'+i)))
		if err := os.WriteFile(p, make([]byte, 100), 0o600); err != nil {
			t.Fatal(err)
		}
		mod := base.Add(time.Duration(i) * time.Minute)
		used := mod
		if i == 0 && runtime.GOOS == "linux" {
			used = time.Now() // written first, read just now: a module in use
		}
		if err := os.Chtimes(p, used, mod); err != nil {
			t.Fatal(err)
		}
	}
	if files, freed, err := trimCache(dir, 1000); err != nil || files != 0 || freed != 0 {
		t.Fatalf("a cache at its budget: removed %d files (%d bytes), %v", files, freed, err)
	}
	files, freed, err := trimCache(dir, 900)
	if err != nil || files != 6 || freed != 600 {
		t.Fatalf("a cache over its budget: removed %d files (%d bytes), %v; want 6 (down to 450 of 900)", files, freed, err)
	}
	left, err := os.ReadDir(sub)
	if err != nil {
		t.Fatal(err)
	}
	var names string
	for _, e := range left {
		names += e.Name()
	}
	want := "ghij"
	if runtime.GOOS == "linux" {
		want = "ahij" // a was read last (its access time)
	}
	if names != want {
		t.Errorf("files left %q, want the four last used, %q", names, want)
	}
	if files, _, err := trimCache(filepath.Join(dir, "absent"), 1); err != nil || files != 0 {
		t.Errorf("a cache directory not created yet: %d %v", files, err)
	}
}
