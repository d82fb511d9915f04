//go:build unix

package sqldb

import "syscall"

// RestrictFileModes sets the process's umask to 077: every file and
// directory the process creates from then on is its owner's only (the
// SQLite database's -wal and -shm files, which SQLite makes with the
// umask's mode, backups, credentials). Commands call it first thing.
func RestrictFileModes() { syscall.Umask(0o077) }
