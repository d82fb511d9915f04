//go:build !linux

package sandbox

import (
	"io/fs"
	"time"
)

// usedAt is when a cache file was last written.
func usedAt(info fs.FileInfo) time.Time { return info.ModTime() }
