package testbrowser

import "github.com/chromedp/chromedp"

// formControls returns, for each visible text-like input, select and
// textarea of the page (checkboxes and radio buttons keep the browser's
// own drawing), why its border does not show it well enough: WCAG 2.1,
// 1.4.11 wants the boundary of a control at least 3:1 against the
// background around it (the first opaque background among its
// ancestors). A control marked aria-invalid="true" must also show it: a
// border of at least 2px in the page's --danger colour (#rrggbb on :root),
// whatever rule of the style sheets drew its normal border.
const formControls = `(() => {
  const rgb = c => { const m = /rgba?\(([^)]+)\)/.exec(c); if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const hex = getComputedStyle(document.documentElement).getPropertyValue('--danger').trim();
  const danger = /^#[0-9a-f]{6}$/i.test(hex) ?
    'rgb(' + [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16)).join(', ') + ')' : null;
  const out = [];
  const els = [...document.querySelectorAll('input, select, textarea')].filter(e =>
    !['hidden', 'checkbox', 'radio', 'submit', 'button', 'image', 'reset'].includes(e.type) && e.getClientRects().length > 0);
  for (const el of els) {
    const s = getComputedStyle(el);
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '[name=' + el.name + ']');
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (let e = el.parentElement; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c && c.a >= 0.5) { bg = c; break; }
    }
    const bc = rgb(s.borderTopColor);
    if (s.borderTopStyle === 'none' || parseFloat(s.borderTopWidth) < 1 || !bc) { out.push(name + ': no border'); continue; }
    const [hi, lo] = [lum(bc), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    if (ratio < 3) {
      out.push(name + ': border ' + s.borderTopColor + ' on rgb(' + bg.r + ', ' + bg.g + ', ' + bg.b + ') has contrast ' + ratio.toFixed(2) + ':1, want 3:1');
    }
    if (el.getAttribute('aria-invalid') === 'true' && (s.borderTopColor !== danger || parseFloat(s.borderTopWidth) < 2)) {
      out.push(name + ': marked invalid, but its border is ' + s.borderTopWidth + ' ' + s.borderTopColor + ', want 2px ' + danger);
    }
  }
  return out;
})()`

// FormControls checks the borders of the page's form controls (see
// formControls) and returns why each failing one is not visible enough;
// none when all are.
func (b *Tab) FormControls() []string {
	b.T.Helper()
	var out []string
	b.Run("check the form controls' borders", chromedp.Evaluate(formControls, &out))
	return out
}
