package sandbox

import (
	"cmp"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// DefaultCacheMaxBytes is Options.CacheMaxBytes's default: 2 GiB of
// compiled modules (a Go guest compiles to 10–20 MiB of native code).
const DefaultCacheMaxBytes = 2 << 30

// cacheTrimEvery is how often a running engine checks its cache's size.
const cacheTrimEvery = 10 * time.Minute

// trimCache keeps the compilation cache under dir within maxBytes: when
// its files add up to more, the least recently used go first (usedAt)
// until half the budget is left. The cache holds native code for every module
// ever compiled here (every upload checked, accepted or refused, every
// version published), and nothing else removes its files, so without a
// bound a gestor uploading modules over and over would fill the node's
// disk. Only a cache: a module whose file is removed is compiled again
// when it is next needed (serve prepares the published versions at
// start), and wazero writes a fresh file. It returns how many files and
// bytes it removed.
func trimCache(dir string, maxBytes int64) (files int, freed int64, err error) {
	type entry struct {
		path string
		size int64
		mod  time.Time
	}
	var entries []entry
	var total int64
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		entries = append(entries, entry{path, info.Size(), usedAt(info)})
		total += info.Size()
		return nil
	})
	if err != nil || total <= maxBytes {
		return 0, 0, err
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Or(a.mod.Compare(b.mod), cmp.Compare(a.path, b.path)) })
	for _, e := range entries {
		if total <= maxBytes/2 {
			break
		}
		if err := os.Remove(e.path); err != nil && !os.IsNotExist(err) {
			return files, freed, err
		}
		files, freed, total = files+1, freed+e.size, total-e.size
	}
	return files, freed, nil
}

// trimCacheNow runs trimCache on the engine's cache directory, if any,
// and logs what it did.
func (e *Engine) trimCacheNow() { trimCacheLogged(e.log, e.opts.CacheDir, e.opts.CacheMaxBytes) }

// trimCacheLogged runs trimCache on dir, unless it is "", and logs what
// it did.
func trimCacheLogged(log *slog.Logger, dir string, maxBytes int64) {
	if dir == "" {
		return
	}
	files, freed, err := trimCache(dir, maxBytes)
	if err != nil {
		log.Warn("trim the wasm compilation cache", "dir", dir, "err", err)
	}
	if files > 0 {
		log.Info("wasm compilation cache trimmed", "dir", dir, "files", files, "freed_bytes", freed, "max_bytes", maxBytes)
	}
}
