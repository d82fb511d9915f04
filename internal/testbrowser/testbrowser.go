// Package testbrowser drives Debian's headless Chromium for end-to-end tests
// through chromedp: one browser per test, a fresh browser context (own
// cookies) per tab, and tab helpers that fail the test with the name of the
// step that broke.
//
// Outside CI a missing /usr/bin/chromium skips the test with the reason
// printed; with CI=true it fails (see testdb.Unavailable).
package testbrowser

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/portico-dev/portico/internal/testdb"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// Browser is a running headless Chromium.
type Browser struct {
	ctx     context.Context
	browser *chromedp.Browser
	base    string
}

// Start launches Chromium for the test; every page is opened relative to
// baseURL. Everything, start-up included, must finish within timeout. The
// browser ends with the test (cleanups run after the tabs' own, so each tab
// closes while the browser still answers); its output is logged only when
// the test failed. extra adds command-line options (for example a flag that
// blocks third-party cookies).
func Start(t *testing.T, baseURL string, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		testdb.Unavailable(t, "Chromium", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	var out lockedBuffer
	// Chromium's helpers may write into the profile for a moment after the
	// browser exits, which t.TempDir's strict removal would report; remove
	// it with a few retries instead.
	profile, err := os.MkdirTemp("", "portico-chromium-")
	testdb.Must(t, err, "profile dir")
	t.Cleanup(func() {
		for i := 0; i < 20; i++ {
			if err := os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove %s", profile)
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // the suite runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// The portal picks its language from Accept-Language before the
		// tenant default, and headless Chromium sends en-US: pin pt-BR.
		chromedp.Flag("accept-lang", "pt-BR"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(&out),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	started := time.Now()
	if err := chromedp.Run(browserCtx); err != nil {
		t.Fatalf("start %s: %v\nchromium output:\n%s", ChromiumPath, err, out.String())
	}
	t.Logf("chromium started in %v", time.Since(started).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			if s := out.String(); s != "" {
				t.Logf("chromium output:\n%s", s)
			}
		}
	})
	return &Browser{ctx: browserCtx, browser: chromedp.FromContext(browserCtx).Browser, base: baseURL}
}

// NewTab opens a tab in a fresh browser context: no cookies, no session.
//
// chromedp v0.16's WithNewBrowserContext cannot be used: it creates the
// first tab of the new context without newWindow, which Chromium 156
// headless refuses ("Failed to open new tab - no browser is open"). So the
// context and its window are created here and chromedp attaches to the tab.
func (b *Browser) NewTab(t *testing.T) *Tab {
	t.Helper()
	bex := cdp.WithExecutor(b.ctx, b.browser)
	bcID, err := target.CreateBrowserContext().WithDisposeOnDetach(true).Do(bex)
	testdb.Must(t, err, "create browser context")
	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := target.DisposeBrowserContext(bcID).Do(cdp.WithExecutor(dctx, b.browser)); err != nil {
			t.Logf("dispose browser context: %v", err)
		}
	})
	tid, err := target.CreateTarget("about:blank").WithBrowserContextID(bcID).WithNewWindow(true).Do(bex)
	testdb.Must(t, err, "create tab")
	tctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(tid))
	t.Cleanup(cancel) // runs before the context is disposed
	// Attach now, with the tab's own context: the context of a tab's first
	// Run owns the tab, and Run's per-step timeouts must not.
	testdb.Must(t, chromedp.Run(tctx), "attach to the tab")
	return &Tab{T: t, Ctx: tctx, Base: b.base}
}

// Tab is one browser tab; its helpers fail the test on any error.
type Tab struct {
	T    *testing.T
	Ctx  context.Context
	Base string
}

// Run runs actions, allowing each call 20 seconds so a broken step fails
// quickly with its own name.
func (b *Tab) Run(what string, actions ...chromedp.Action) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.T.Fatalf("%s: %v", what, err)
	}
}

// ChildFrameURLs returns the URLs of the documents the page's frames hold,
// as the browser sees them (the page's frame tree and the frames running
// in processes of their own), whatever their origin or sandbox: a
// sandboxed frame's document is out of the page's own reach. Frames of
// other tabs of the browser are listed too.
func (b *Tab) ChildFrameURLs() []string {
	b.T.Helper()
	var urls []string
	b.Run("read the frame tree", chromedp.ActionFunc(func(ctx context.Context) error {
		tree, err := page.GetFrameTree().Do(ctx)
		if err != nil {
			return err
		}
		var walk func(fs []*page.FrameTree)
		walk = func(fs []*page.FrameTree) {
			for _, f := range fs {
				urls = append(urls, f.Frame.URL)
				walk(f.ChildFrames)
			}
		}
		walk(tree.ChildFrames)
		return nil
	}))
	// A frame in a process of its own (a sandboxed or cross-site frame,
	// under site isolation) is a target of its own instead.
	targets, err := chromedp.Targets(b.Ctx)
	if err != nil {
		b.T.Fatalf("list targets: %v", err)
	}
	for _, t := range targets {
		if t.Type == "iframe" {
			urls = append(urls, t.URL)
		}
	}
	return urls
}

// Navigate opens path on the base URL.
func (b *Tab) Navigate(path string) {
	b.T.Helper()
	b.Run("open "+path, chromedp.Navigate(b.Base+path))
}

// WaitVisible waits for the CSS selector sel to be visible.
func (b *Tab) WaitVisible(sel string) {
	b.T.Helper()
	b.Run("wait for "+sel, chromedp.WaitVisible(sel, chromedp.ByQuery))
}

// Click clicks the visible element sel.
func (b *Tab) Click(sel string) {
	b.T.Helper()
	b.Run("click "+sel, chromedp.Click(sel, chromedp.ByQuery, chromedp.NodeVisible))
}

// Text returns the trimmed visible text of sel.
func (b *Tab) Text(sel string) string {
	b.T.Helper()
	var s string
	b.Run("read text of "+sel, chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.NodeVisible))
	return strings.TrimSpace(s)
}

// Attr returns attribute name of sel; a missing attribute fails the test.
func (b *Tab) Attr(sel, name string) string {
	b.T.Helper()
	var v string
	var ok bool
	b.Run("read "+name+" of "+sel, chromedp.AttributeValue(sel, name, &v, &ok, chromedp.ByQuery))
	if !ok {
		b.T.Fatalf("%s has no %s attribute", sel, name)
	}
	return v
}

// Count returns how many elements match sel.
func (b *Tab) Count(sel string) int {
	b.T.Helper()
	var n int
	b.Run("count "+sel, chromedp.Evaluate(`document.querySelectorAll(`+JS(sel)+`).length`, &n))
	return n
}

// Strings evaluates a JavaScript expression that yields an array of strings.
func (b *Tab) Strings(what, expr string) []string {
	b.T.Helper()
	var s []string
	b.Run(what, chromedp.Evaluate(expr, &s))
	return s
}

// Slugs returns the data-slug of each menu item inside nav, in page order.
func (b *Tab) Slugs(nav string) []string {
	b.T.Helper()
	return b.Strings("read menu "+nav, `Array.from(document.querySelectorAll(`+JS(nav+" a.menu-item")+`)).map(a => a.dataset.slug)`)
}

// WaitJS waits up to 5 seconds for a JavaScript expression to be true.
func (b *Tab) WaitJS(what, expr string) {
	b.T.Helper()
	var ok bool
	b.Run(what, chromedp.Poll(expr, &ok, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second)))
}

// Path returns the path of the page the tab shows.
func (b *Tab) Path() string {
	b.T.Helper()
	var loc string
	b.Run("read location", chromedp.Location(&loc))
	u, err := url.Parse(loc)
	if err != nil {
		b.T.Fatalf("parse location %q: %v", loc, err)
	}
	return u.Path
}

// Login fills in the portal's login form and waits for ready, a selector of
// the page the account lands on.
func (b *Tab) Login(email, password, ready string) {
	b.T.Helper()
	b.Navigate("/login")
	b.Run("log in as "+email,
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		chromedp.SendKeys(`#email`, email, chromedp.ByQuery),
		chromedp.SendKeys(`#password`, password, chromedp.ByQuery),
		chromedp.Click(`[data-testid=login-submit]`, chromedp.ByQuery, chromedp.NodeVisible),
		chromedp.WaitVisible(ready, chromedp.ByQuery),
	)
}

// JS quotes s as a JavaScript string literal.
func JS(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// lockedBuffer collects Chromium's output, written from another goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// Frame returns a Tab that drives the frame whose document's URL starts
// with prefix, waiting up to 10 seconds for it. It is for a frame of
// another site: under site isolation Chromium runs it in a process of its
// own, as a target of its own, out of the page's reach.
func (b *Tab) Frame(prefix string) *Tab {
	b.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		targets, err := chromedp.Targets(b.Ctx)
		testdb.Must(b.T, err, "list targets")
		var seen []string
		for _, ti := range targets {
			if ti.Type != "iframe" {
				continue
			}
			if strings.HasPrefix(ti.URL, prefix) {
				ctx, cancel := chromedp.NewContext(b.Ctx, chromedp.WithTargetID(ti.TargetID))
				b.T.Cleanup(cancel)
				testdb.Must(b.T, chromedp.Run(ctx), "attach to the frame %s", ti.URL)
				return &Tab{T: b.T, Ctx: ctx, Base: b.Base}
			}
			seen = append(seen, ti.URL)
		}
		if time.Now().After(deadline) {
			b.T.Fatalf("no frame at %s; frames: %q", prefix, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
