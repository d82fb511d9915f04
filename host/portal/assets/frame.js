// Frame height for iframe plugins: the plugin's page may post
// {type: "portico:resize", height: N} to the portal (docs/launch.md,
// "The frame's height") and its frame takes that height, so its content
// is not cut off behind a scroll bar of its own. Only messages from the
// framed document itself, at the plugin's registered origin, count; the
// height is bounded. Without script the frame keeps its configured size.
(function () {
  "use strict";
  var MIN = 150, MAX = 20000;
  var frame = document.querySelector("iframe[data-testid=plugin-frame][data-origin]");
  if (!frame) { return; }
  var origin = frame.getAttribute("data-origin");
  window.addEventListener("message", function (e) {
    if (e.source !== frame.contentWindow || e.origin !== origin) { return; }
    var d = e.data;
    if (!d || typeof d !== "object" || d.type !== "portico:resize" || typeof d.height !== "number" || !isFinite(d.height)) { return; }
    // The page's height is the frame's content height; with border-box
    // sizing the frame's own borders and padding come on top.
    var cs = getComputedStyle(frame), extra = 0;
    if (cs.boxSizing === "border-box") {
      extra = parseFloat(cs.borderTopWidth) + parseFloat(cs.borderBottomWidth) + parseFloat(cs.paddingTop) + parseFloat(cs.paddingBottom);
    }
    frame.style.height = Math.round(Math.min(MAX, Math.max(MIN, d.height)) + extra) + "px";
    frame.setAttribute("data-sized", "true");
  });
})();
