package testbrowser

import (
	"strconv"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// focusRings returns, for each of a page's first max focusable elements
// in document order, why its focus indicator is not visible enough; an
// element passes with an outline (the portal's and the admin's only focus
// style) whose colour has a contrast of at least 3:1 (WCAG 2.1, 1.4.11
// and 2.4.7) with the background it is drawn on, the first opaque
// background among the element's ancestors (the ring is drawn outside the
// element). Frames are skipped: the focus moves into their own document.
// The page must be in keyboard mode (a real Tab pressed), so that focus()
// matches :focus-visible as a Tab would.
const focusRings = `((max) => {
  const rgb = c => { const m = /rgba?\(([^)]+)\)/.exec(c); if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const check = el => {
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (let e = el.parentElement; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c && c.a >= 0.5) { bg = c; break; }
    }
    const s = getComputedStyle(el);
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || '').replace(/\s+/g, ' ').trim().slice(0, 30) + '"';
    if (s.outlineStyle === 'none' || parseFloat(s.outlineWidth) < 2) return name + ': no focus ring';
    const oc = rgb(s.outlineColor);
    if (!oc) return name + ': outline colour ' + s.outlineColor;
    const [hi, lo] = [lum(oc), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    return ratio >= 3 ? '' : name + ': focus ring ' + s.outlineColor + ' on rgb(' + bg.r + ', ' + bg.g + ', ' + bg.b + ')' +
      ' has contrast ' + ratio.toFixed(2) + ':1, want 3:1';
  };
  const focusable = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), ' +
    'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  const els = [...document.querySelectorAll(focusable)]
    .filter(e => e.tabIndex >= 0 && e.tagName !== 'IFRAME' && e.getClientRects().length > 0).slice(0, max);
  const out = [];
  for (const el of els) {
    el.focus();
    if (document.activeElement !== el) continue;
    const p = check(el);
    if (p) out.push(p);
  }
  document.activeElement && document.activeElement.blur();
  return out;
})`

// FocusRings checks the focus indicator of the page's first max focusable
// elements (see focusRings) and returns why each failing one is not
// visible enough; none when all are. It presses Tab once first, as a
// keyboard user would, then focuses the elements from a script: one round
// trip to the browser, not one per element.
func (b *Tab) FocusRings(max int) []string {
	b.T.Helper()
	b.Run("press Tab", chromedp.KeyEvent(kb.Tab))
	var out []string
	b.Run("check the focus rings", chromedp.Evaluate(focusRings+"("+strconv.Itoa(max)+")", &out))
	return out
}
