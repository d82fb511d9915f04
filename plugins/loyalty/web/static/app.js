// The loyalty app's only script (CSP script-src 'self'; no inline script).
// Progressive enhancement: every page works without it.
//
//  - The QR scanner on the staff pages, where the browser has the
//    BarcodeDetector API and a camera this document may use. Inside the
//    portal's frame (which grants no camera) it offers the scanner in a
//    window of its own; a typed code always works.
//  - The import page's progress bar, polling a small JSON answer while the
//    import runs, and reloading the page when it ends (to show the report).
//  - The movement forms' buttons, disabled once the form is sent.
'use strict';

(function () {
  const CODE = /^PT-?[0-9A-Z]{8}$/i;

  function cameraAllowed() {
    const pol = document.permissionsPolicy || document.featurePolicy;
    if (pol && typeof pol.allowsFeature === 'function') {
      return pol.allowsFeature('camera');
    }
    return window.self === window.top;
  }

  async function setupScanner(box) {
    if (!('BarcodeDetector' in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      const note = document.getElementById('scan-unsupported');
      if (note) note.textContent = note.dataset.text || '';
      return;
    }
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (!formats.includes('qr_code')) return;
    } catch (e) {
      return;
    }
    const start = document.getElementById('scan-start');
    const other = document.getElementById('scan-window');
    const stop = document.getElementById('scan-stop');
    const video = document.getElementById('scan-video');
    const status = document.getElementById('scan-status');
    box.hidden = false;
    if (!cameraAllowed()) {
      if (window.self !== window.top && other) other.hidden = false;
      return;
    }
    start.hidden = false;
    const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
    let stream = null;
    let timer = 0;

    function end() {
      if (timer) clearTimeout(timer);
      timer = 0;
      if (stream) stream.getTracks().forEach(t => t.stop());
      stream = null;
      video.hidden = true;
      stop.hidden = true;
      start.hidden = false;
    }

    async function tick() {
      timer = 0;
      if (!stream) return;
      try {
        const found = await detector.detect(video);
        for (const f of found) {
          const v = (f.rawValue || '').trim();
          if (CODE.test(v)) {
            end();
            window.location.assign(box.dataset.target + '?q=' + encodeURIComponent(v));
            return;
          }
        }
      } catch (e) { /* a frame not ready yet */ }
      timer = setTimeout(tick, 250);
    }

    start.addEventListener('click', async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      } catch (e) {
        status.textContent = box.dataset.error || '';
        return;
      }
      video.srcObject = stream;
      video.hidden = false;
      stop.hidden = false;
      start.hidden = true;
      status.textContent = '';
      await video.play().catch(() => {});
      tick();
    });
    stop.addEventListener('click', end);
    window.addEventListener('pagehide', end);
  }

  function setupProgress(box) {
    if (!box.dataset.running) return;
    const bar = document.getElementById('import-progress');
    const count = document.getElementById('import-count');
    async function poll() {
      try {
        const res = await fetch(box.dataset.progress, { headers: { Accept: 'application/json' }, cache: 'no-store' });
        if (res.ok) {
          const p = await res.json();
          if (p.total > 0) {
            bar.max = p.total;
            bar.value = p.done;
          }
          if (count.textContent !== p.text) count.textContent = p.text;
          if (!p.running) {
            window.location.reload();
            return;
          }
        }
      } catch (e) { /* try again */ }
      setTimeout(poll, 1000);
    }
    setTimeout(poll, 500);
  }

  // A movement form disables its button once sent, so a double click
  // sends it once; the server applies a form's movement once anyway (its
  // one-time token), and a form shown again after an error is enabled.
  function guardForm(form) {
    form.addEventListener('submit', function () {
      const button = form.querySelector('button[type=submit]');
      if (button) setTimeout(function () { button.disabled = true; }, 0);
    });
    // Back to this page from the browser's cache: the button works again.
    window.addEventListener('pageshow', function (e) {
      const button = form.querySelector('button[type=submit]');
      if (e.persisted && button) button.disabled = false;
    });
  }

  function init() {
    ['earn-form', 'spend-form'].forEach(function (id) {
      const form = document.getElementById(id);
      if (form) guardForm(form);
    });
    const scanner = document.getElementById('scanner');
    if (scanner) setupScanner(scanner);
    const imp = document.getElementById('import');
    if (imp) setupProgress(imp);
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
