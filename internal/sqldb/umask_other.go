//go:build !unix

package sqldb

// RestrictFileModes does nothing where there is no umask.
func RestrictFileModes() {}
