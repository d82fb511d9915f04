// Copy buttons of wasm plugin views: a progressive enhancement. Without
// script the text stays selectable and the buttons stay hidden.
(function () {
  "use strict";
  if (!navigator.clipboard) { return; }
  // The outcome is written in the block's status line, which screen
  // readers announce; a refused copy selects the text for the person to
  // copy by hand.
  document.querySelectorAll("button.copy-button[data-copy]").forEach(function (btn) {
    var target = document.getElementById(btn.getAttribute("data-copy"));
    var status = document.getElementById(btn.getAttribute("data-copy") + "-status");
    if (!target) { return; }
    var label = btn.textContent;
    var timer = 0;
    function say(text) {
      if (status) { status.textContent = text; }
      clearTimeout(timer);
      timer = setTimeout(function () { btn.textContent = label; if (status) { status.textContent = ""; } }, 4000);
    }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent).then(function () {
        btn.textContent = btn.getAttribute("data-copied");
        say(btn.getAttribute("data-copied"));
      }, function () {
        var range = document.createRange();
        range.selectNodeContents(target);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        say(btn.getAttribute("data-copy-failed"));
      });
    });
  });
})();
