// Tells the portal framing this page how tall its content is, so that the
// portal sizes the frame to it instead of cutting the page off behind a
// scroll bar of its own (docs/launch.md, "The frame's height"). The portal
// resizes the frame only for messages from the plugin's registered origin.
// The portal's origin comes from <html data-portal-origin="...">: the
// height is posted to that origin only.
(function () {
  "use strict";
  var portal = document.documentElement.getAttribute("data-portal-origin");
  if (!portal || window.parent === window || typeof ResizeObserver !== "function") { return; }
  var last = -1;
  function send() {
    // The root element's box holds the body's margins and any child margin
    // that collapses through them (the body's own box does not).
    var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (h === last) { return; }
    last = h;
    window.parent.postMessage({ type: "portico:resize", height: h }, portal);
  }
  var ro = new ResizeObserver(send);
  ro.observe(document.documentElement);
  ro.observe(document.body);
  send();
})();
