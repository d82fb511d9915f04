package testbrowser

import (
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// focusCheck describes the focused element's focus indicator, or returns
// "" when it is visible: an outline (the portal's and the admin's only
// focus style) whose colour has a contrast of at least 3:1 (WCAG 2.1,
// 1.4.11 and 2.4.7) with the background it is drawn on, the first opaque
// background among the element's ancestors (the ring is drawn outside the
// element). A frame is skipped: the focus moves into its own document.
const focusCheck = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body || el.tagName === 'IFRAME') return '';
  const rgb = c => { const m = /rgba?\(([^)]+)\)/.exec(c); if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
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
  return ratio >= 3 ? '' : name + ': focus ring ' + s.outlineColor + ' on ' + 'rgb(' + bg.r + ', ' + bg.g + ', ' + bg.b + ')' +
    ' has contrast ' + ratio.toFixed(2) + ':1, want 3:1';
})()`

// FocusRings presses Tab up to max times from the top of the page and
// returns, for each element that takes the focus, why its focus indicator
// is not visible enough (see focusCheck); none when all are. It stops when
// the focus leaves the page's elements (back to the body or the address
// bar) or comes back to the first element.
func (b *Tab) FocusRings(max int) []string {
	b.T.Helper()
	b.Run("blur", chromedp.Evaluate(`document.activeElement && document.activeElement.blur(), window.scrollTo(0, 0)`, nil))
	var out []string
	first := ""
	for range max {
		var problem, who string
		b.Run("press Tab", chromedp.KeyEvent(kb.Tab))
		b.Run("check the focus ring", chromedp.Evaluate(focusCheck, &problem),
			chromedp.Evaluate(`(e => e ? e.tagName + '|' + (e.id || '') + '|' + (e.getAttribute('href') || e.getAttribute('name') || '') + '|' + (e.innerText || '').slice(0, 40) : '')(document.activeElement)`, &who))
		if who == "" || who == "BODY|||" || who == first {
			break
		}
		if first == "" {
			first = who
		}
		if problem != "" {
			out = append(out, problem)
		}
	}
	return out
}
