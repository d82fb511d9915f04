package launchkit

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
)

// frameScript is the script behind FrameScriptHandler (frame.js).
//
//go:embed frame.js
var frameScript []byte

// FrameScriptPath is where an app mounts FrameScriptHandler: a path that
// changes with the script's content, so it can be cached for good.
var FrameScriptPath = func() string {
	sum := sha256.Sum256(frameScript)
	return "/launchkit/" + hex.EncodeToString(sum[:6]) + "/frame.js"
}()

// FrameScriptHandler serves the script that keeps the portal's frame as
// tall as the page's content: it posts {type: "portico:resize", height}
// to the portal's origin, named by the page's <html
// data-portal-origin="...">, whenever the body's height changes. Load it
// from a page of your app (CSP script-src 'self'):
//
//	mux.Handle("GET "+launchkit.FrameScriptPath, launchkit.FrameScriptHandler())
//	<html data-portal-origin="https://portal.example.com"> … <script src="/launchkit/…/frame.js" defer></script>
func FrameScriptHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		_, _ = w.Write(frameScript)
	})
}
