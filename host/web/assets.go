package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Assets serves embedded static files under fingerprinted URLs
// (prefix/{sha256-prefix}/{name}) with a one-year immutable cache, so a
// browser never keeps a stale copy.
type Assets struct {
	files map[string]assetFile
	urls  map[string]string
}

type assetFile struct {
	body        []byte
	contentType string
}

// NewAssets loads every file under dir of fsys, to be served under prefix
// (e.g. "/assets"; the route is prefix+"/:sum/:name").
func NewAssets(fsys fs.FS, dir, prefix string) (*Assets, error) {
	a := &Assets{files: map[string]assetFile{}, urls: map[string]string{}}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, dir+"/")
		ct := "application/octet-stream"
		switch path.Ext(name) {
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		}
		sum := sha256.Sum256(b)
		a.files[name] = assetFile{body: b, contentType: ct}
		a.urls[name] = prefix + "/" + hex.EncodeToString(sum[:6]) + "/" + name
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load assets %s: %w", dir, err)
	}
	return a, nil
}

// URL returns the fingerprinted URL of name; templates call it as "asset".
func (a *Assets) URL(name string) (string, error) {
	u, ok := a.urls[name]
	if !ok {
		return "", fmt.Errorf("unknown asset %q", name)
	}
	return u, nil
}

// Serve answers the asset route; a stale fingerprint is a 404, never old
// bytes.
func (a *Assets) Serve(c *fiber.Ctx) error {
	name := c.Params("name")
	f, ok := a.files[name]
	if !ok || a.urls[name] != c.Path() {
		return Fail(fiber.StatusNotFound, "not_found")
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	return c.Send(f.body)
}
