package testguest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestBuildCached builds a guest twice into a fresh cache: the same bytes
// come back, from one cached file; a changed source gets a new key.
func TestBuildCached(t *testing.T) {
	t.Setenv("PORTICO_TEST_CACHE", t.TempDir())
	src := t.TempDir()
	write := func(body string) {
		if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module guest\n\ngo 1.24\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nfunc main() {}\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	wd, _ := os.Getwd()
	t.Cleanup(func() { _ = os.Chdir(wd) })
	if err := os.Chdir(src); err != nil {
		t.Fatal(err)
	}
	k1, err := sourceKey(".", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Build(".")
	if err != nil {
		t.Fatal(err)
	}
	delete(built, ".\x00") // read it back from the cache, not the memo
	b, err := Build(".")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(Root(), "guests", "*.wasm"))
	if !bytes.Equal(a, b) || !bytes.HasPrefix(a, []byte("\x00asm")) || len(files) != 1 || filepath.Base(files[0]) != k1+".wasm" {
		t.Fatalf("cached build: equal %v, files %v, key %s", bytes.Equal(a, b), files, k1)
	}
	write("var X = 1\n")
	if k2, err := sourceKey(".", nil); err != nil || k2 == k1 {
		t.Fatalf("changed source kept key %s (%v)", k2, err)
	}
	if k3, _ := sourceKey(".", []string{"-ldflags", "-X main.v=2"}); k3 == k1 {
		t.Fatal("flags are not part of the key")
	}
}
