package testsrc_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/portico-dev/portico/internal/testsrc"
)

func TestDirFindsThisPackage(t *testing.T) {
	d, err := testsrc.Dir("github.com/portico-dev/portico/internal/testsrc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d, "testsrc.go")); err != nil {
		t.Fatalf("Dir = %s, which lacks testsrc.go: %v", d, err)
	}
	if _, err := testsrc.Dir("github.com/portico-dev/portico/no/such/package"); err == nil {
		t.Fatal("Dir of a package that does not exist: no error")
	}
}
