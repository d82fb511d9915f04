// Copy buttons of wasm plugin views: a progressive enhancement. Without
// script the text stays selectable and the buttons stay hidden.
(function () {
  "use strict";
  if (!navigator.clipboard) { return; }
  document.querySelectorAll("button.copy-button[data-copy]").forEach(function (btn) {
    var target = document.getElementById(btn.getAttribute("data-copy"));
    if (!target) { return; }
    var label = btn.textContent;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent).then(function () {
        btn.textContent = btn.getAttribute("data-copied");
        setTimeout(function () { btn.textContent = label; }, 2000);
      });
    });
  });
})();
