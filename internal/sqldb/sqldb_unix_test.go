//go:build unix

package sqldb

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDatabaseFilesPrivate: the SQLite database is made readable by its
// owner only whatever the umask, and the journal files SQLite makes beside
// it too once a command restricted the file modes; in a data directory
// open to others.
func TestDatabaseFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir0 := t.TempDir()
	db0, sql0, _, err := Open(context.Background(), "sqlite://"+filepath.Join(dir0, "portico.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db0.Exec("CREATE TABLE t (x INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	sql0.Close()
	if st, err := os.Stat(filepath.Join(dir0, "portico.db")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("database made under umask 022: %v %v, want mode 0600", st.Mode(), err)
	}
	RestrictFileModes()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "portico.db")
	db, sqlDB, _, err := Open(context.Background(), "sqlite://"+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	if err := db.Exec("CREATE TABLE t (x INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO t VALUES (1)").Error; err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"portico.db", "portico.db-wal", "portico.db-shm"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v: readable by others", name, perm)
		}
	}
}
