/* The console's own small script (no library, no CDN):
   - a campaign page polls its progress.json while the campaign is scheduled or running and
     updates the counts in place;
   - the template editor asks the preview endpoint for a render as the text changes. */
(function () {
  "use strict";
  var POLL_MS = 2000;

  function text(el, value) { if (el) { el.textContent = value; } }

  function poll(section) {
    var url = section.getAttribute("data-url");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var bar = document.getElementById("progress-bar");
        if (bar) { bar.max = data.progress.total || 1; bar.value = data.progress.done; }
        text(document.getElementById("progress-text"),
             data.progress.done.toLocaleString() + "/" + data.progress.total.toLocaleString());
        text(document.getElementById("campaign-status"), data.status_label);
        var body = document.getElementById("counts");
        if (body) {
          while (body.firstChild) { body.removeChild(body.firstChild); }
          Object.keys(data.counts).sort().forEach(function (status) {
            var row = document.createElement("tr");
            var a = document.createElement("td"); a.textContent = (data.count_labels || {})[status] || status;
            var b = document.createElement("td"); b.textContent = data.counts[status].toLocaleString();
            row.appendChild(a); row.appendChild(b); body.appendChild(row);
          });
        }
        section.setAttribute("data-status", data.status);
        if (data.status === "scheduled" || data.status === "running") {
          window.setTimeout(function () { poll(section); }, POLL_MS);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(section); }, POLL_MS * 2); });
  }

  var live = document.getElementById("live");
  if (live) {
    var status = live.getAttribute("data-status");
    if (status === "scheduled" || status === "running") { poll(live); }
  }

  var editor = document.getElementById("template-editor");
  if (editor) {
    var pending = null;
    var out = document.getElementById("live-preview");
    var refresh = function () {
      fetch(editor.getAttribute("data-preview-url"), {
        method: "POST", credentials: "same-origin", body: new FormData(editor)
      })
        .then(function (r) { return r.text(); })
        .then(function (html) { out.innerHTML = html; })
        .catch(function () {});
    };
    editor.addEventListener("input", function () {
      if (pending) { window.clearTimeout(pending); }
      pending = window.setTimeout(refresh, 400);
    });
  }
})();
