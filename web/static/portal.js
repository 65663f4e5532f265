// The portal works without this script. With it, a Find Device command's
// page follows the command's state as the device answers.
(function () {
  "use strict";
  var box = document.getElementById("command");
  if (!box || box.dataset.ended === "true") { return; }
  var url = box.dataset.stateUrl;
  var text = document.getElementById("command-text");
  var map = document.getElementById("command-map");
  var refresh = document.getElementById("command-refresh");
  if (refresh) { refresh.hidden = true; }
  var tries = 0;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (c) {
        if (c.Text && c.Text !== text.textContent) { text.textContent = c.Text; }
        text.className = c.Failed ? "fail" : (c.Ended ? "ok" : "waiting");
        if (c.MapURL) {
          map.querySelector("a").href = c.MapURL;
          map.hidden = false;
        }
        if (c.Ended) { box.dataset.ended = "true"; return; }
        schedule();
      })
      .catch(function () { if (refresh) { refresh.hidden = false; } schedule(); });
  }
  function schedule() {
    tries++;
    setTimeout(poll, tries < 40 ? 1500 : 5000);
  }
  schedule();
})();
