// Portico admin: small enhancements over pages that work without script.
// - plugin list: drag-and-drop rows, saved as a normal form post; the
//   ▲/▼ buttons (the keyboard alternative) save in the background;
// - plugin form: show the fields of the chosen type, the custom size inputs
//   and a live preview of the frame's proportion;
// - configuration table: add and remove rows;
// - settings: keep the colour picker and its text box in step;
// - values shown once (an API key, a reset link): a copy button;
// - module upload: a file over the size limit is refused before it is
//   sent (the server refuses it too, but a browser may show a dropped
//   connection instead of the answer to a 16 MiB body it is still sending).
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // Drag-and-drop ordering of the plugin list.
  function initOrdering() {
    var body = $("#plugin-rows");
    var form = $("#order-form");
    if (!body || !form) return;
    var dragged = null;
    var before = [];

    function order() { return $$("tr[data-slug]", body).map(function (r) { return r.getAttribute("data-slug"); }); }
    function clearMarks() { $$("tr.drop-target", body).forEach(function (r) { r.classList.remove("drop-target"); }); }

    body.addEventListener("dragstart", function (ev) {
      var row = ev.target.closest ? ev.target.closest("tr[data-slug]") : null;
      if (!row) return;
      dragged = row;
      before = order();
      row.classList.add("dragging");
      if (ev.dataTransfer) {
        ev.dataTransfer.effectAllowed = "move";
        try { ev.dataTransfer.setData("text/plain", row.getAttribute("data-slug")); } catch (e) { /* old browsers */ }
      }
    });
    body.addEventListener("dragover", function (ev) {
      if (!dragged) return;
      var row = ev.target.closest ? ev.target.closest("tr[data-slug]") : null;
      ev.preventDefault();
      if (ev.dataTransfer) ev.dataTransfer.dropEffect = "move";
      if (!row || row === dragged) return;
      var rect = row.getBoundingClientRect();
      var after = ev.clientY > rect.top + rect.height / 2;
      body.insertBefore(dragged, after ? row.nextSibling : row);
      clearMarks();
      row.classList.add("drop-target");
    });
    body.addEventListener("drop", function (ev) {
      if (!dragged) return;
      ev.preventDefault();
      finish();
    });
    body.addEventListener("dragend", function () {
      if (dragged) finish();
    });

    // ▲ and ▼ save the move in the background and move the row in place
    // (no reload; focus stays on the button pressed). Without script, or
    // if the request fails, the form posts as usual and the page reloads.
    // Moves are sent one after another (each waits for the one before),
    // in the order they were made; #plugin-rows carries data-saving while
    // any is on its way, and the live region says when all are saved.
    var queue = Promise.resolve();
    var inflight = 0;
    var status = $("#order-status");
    body.addEventListener("submit", function (ev) {
      var f = ev.target;
      var btn = ev.submitter;
      if (!/\/move$/.test(f.getAttribute("action") || "") || !btn || !window.fetch) return;
      ev.preventDefault();
      var row = f.closest("tr[data-slug]");
      var up = btn.value === "up";
      var other = up ? row.previousElementSibling : row.nextElementSibling;
      if (!other) return;
      var data = new URLSearchParams(new FormData(f));
      data.set("direction", btn.value);
      inflight++;
      body.setAttribute("data-saving", "true");
      if (status) status.textContent = status.getAttribute("data-saving") || "";
      queue = queue.then(function () {
        return fetch(f.action, { method: "POST", body: data, credentials: "same-origin", redirect: "manual" });
      }).then(function (r) {
        if (r.type !== "opaqueredirect" && !(r.status >= 300 && r.status < 400)) throw new Error("move refused");
        if (--inflight === 0) {
          body.removeAttribute("data-saving");
          if (status) status.textContent = status.getAttribute("data-saved") || "";
        }
      }).catch(function () { window.location.reload(); });
      body.insertBefore(row, up ? other : other.nextElementSibling);
      syncButtons();
      btn.focus();
    });

    // syncButtons disables ▲ on the first row and ▼ on the last.
    function syncButtons() {
      var rows = $$("tr[data-slug]", body);
      rows.forEach(function (r, i) {
        var up = $("button[value=up]", r), down = $("button[value=down]", r);
        if (up) up.disabled = i === 0;
        if (down) down.disabled = i === rows.length - 1;
      });
    }

    function finish() {
      var row = dragged;
      dragged = null;
      clearMarks();
      row.classList.remove("dragging");
      var now = order();
      if (now.join(",") === before.join(",")) return;
      var status = $("#order-status");
      if (status) status.textContent = status.getAttribute("data-saving") || "";
      now.forEach(function (slug) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "slug";
        input.value = slug;
        form.appendChild(input);
      });
      form.submit();
    }
  }

  // The plugin form: type-dependent fields, custom size, preview.
  function initPluginForm() {
    var form = $("#plugin-form");
    if (!form) return;

    function checked(name) {
      var el = $("input[name=" + name + "]:checked", form);
      return el ? el : null;
    }

    function syncType() {
      var t = checked("type");
      var type = t ? t.value : "";
      $$("[data-for-type]", form).forEach(function (el) {
        el.hidden = type !== "" && el.getAttribute("data-for-type") !== type;
      });
    }

    var preview = $("#size-preview");
    var svg = preview ? $("svg", preview) : null;
    var caption = $("#preview-caption");
    var custom = $("#size-custom-fields");
    var width = $("#f-width");
    var height = $("#f-height");

    function syncSize() {
      var s = checked("size");
      if (!s) return;
      var isCustom = s.value === "custom";
      if (custom) custom.hidden = !isCustom;
      var w = parseInt(s.getAttribute("data-w"), 10) || 0;
      var h = parseInt(s.getAttribute("data-h"), 10) || 0;
      if (isCustom) {
        w = parseInt(width && width.value, 10) || 0;
        h = parseInt(height && height.value, 10) || 0;
      }
      if (!svg || !caption) return;
      if (w > 0 && h > 0) {
        svg.setAttribute("viewBox", "0 0 " + w + " " + h);
        caption.textContent = (preview.getAttribute("data-fmt") || "{w} × {h}").replace("{w}", w).replace("{h}", h);
      } else {
        svg.setAttribute("viewBox", "0 0 1600 900");
        caption.textContent = preview.getAttribute("data-full") || "";
      }
    }

    form.addEventListener("change", function (ev) {
      var name = ev.target && ev.target.name;
      if (name === "type") syncType();
      if (name === "size" || name === "width" || name === "height") syncSize();
    });
    form.addEventListener("input", function (ev) {
      var name = ev.target && ev.target.name;
      if (name === "width" || name === "height") syncSize();
    });
    syncType();
    syncSize();
  }

  // The configuration table: "add row" and removing added rows.
  function initConfig() {
    var table = $("#config-table");
    var tpl = $("#config-row-template");
    var add = $("#config-add");
    if (!table || !tpl || !add) return;
    var rows = $("#config-rows");
    var next = parseInt(table.getAttribute("data-next"), 10) || 0;
    add.hidden = false;
    add.addEventListener("click", function () {
      var html = tpl.innerHTML.replace(/__N__/g, String(next));
      next++;
      var holder = document.createElement("tbody");
      holder.innerHTML = html;
      var row = holder.querySelector("tr");
      if (!row) return;
      rows.appendChild(row);
      var first = row.querySelector("input");
      if (first) first.focus();
    });
    rows.addEventListener("click", function (ev) {
      var btn = ev.target.closest ? ev.target.closest("[data-remove-row]") : null;
      if (!btn) return;
      var row = btn.closest("tr");
      if (row) row.parentNode.removeChild(row);
      add.focus();
    });
  }

  // Settings: the colour picker and the text box show the same colour.
  function initColor() {
    $$("input[data-sync]").forEach(function (el) {
      el.addEventListener("input", function () {
        var other = document.getElementById(el.getAttribute("data-sync"));
        if (!other) return;
        if (other.type === "color" && !/^#[0-9a-fA-F]{6}$/.test(el.value)) return;
        other.value = el.value;
      });
    });
  }

  // The module upload: a file over data-max-bytes is named as too large
  // next to the field, as the server would, and the form is not sent.
  function initUpload() {
    var input = $("input[type=file][data-max-bytes]");
    if (!input || !input.form) return;
    var max = parseInt(input.getAttribute("data-max-bytes"), 10) || 0;
    // The field's descriptions without a message: the hint.
    var described = (input.getAttribute("aria-describedby") || "").replace(/\s*\berr-module\b/, "").trim();

    function tooLarge() {
      var f = input.files && input.files[0];
      return max > 0 && f && f.size > max;
    }
    function show(on) {
      var msg = document.getElementById("err-module");
      if (on) {
        if (!msg) {
          msg = document.createElement("p");
          msg.className = "field-error";
          msg.id = "err-module";
          input.parentNode.insertBefore(msg, input.nextSibling);
        }
        msg.setAttribute("role", "alert");
        msg.textContent = input.getAttribute("data-too-large") || "";
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", (described + " err-module").trim());
      } else if (msg && msg.getAttribute("role") === "alert") {
        // Only a message this script wrote: the server's stays until its
        // next answer.
        msg.parentNode.removeChild(msg);
        input.setAttribute("aria-describedby", described);
        input.removeAttribute("aria-invalid");
      }
    }
    input.addEventListener("change", function () { show(tooLarge()); });
    input.form.addEventListener("submit", function (ev) {
      if (!tooLarge()) return;
      ev.preventDefault();
      show(true);
      input.focus();
    });
  }

  // Copy buttons of the values shown once (an API key, a reset link):
  // shown only with script, which they need; the value stays selectable
  // either way. The result is announced in the button's status line.
  function initCopy() {
    $$("button[data-copy]").forEach(function (btn) {
      var field = document.getElementById(btn.getAttribute("data-copy"));
      var status = document.getElementById(btn.getAttribute("data-copy") + "-status");
      if (!field || !status) return;
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var value = field.value !== undefined ? field.value : field.textContent;
        function done(ok) {
          status.textContent = btn.getAttribute(ok ? "data-copied" : "data-copy-failed") || "";
          if (!ok && field.select) { field.focus(); field.select(); }
        }
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(value).then(function () { done(true); }, function () { done(false); });
        } else {
          done(false);
        }
      });
    });
  }

  function init() {
    initCopy();
    initOrdering();
    initPluginForm();
    initConfig();
    initColor();
    initUpload();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
