// Live refresh: every few seconds, fetch this page again and swap in its [data-live] parts.
// Without JavaScript the page works the same; reloading it shows the same fresh numbers.
(function () {
  "use strict";
  var every = 3000;
  var parts = document.querySelectorAll("[data-live]");
  var toggle = document.getElementById("live-toggle");
  if (!parts.length || !toggle || !window.fetch || !window.DOMParser) { return; }
  var paused = false;
  var timer = null;
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    paused = !paused;
    toggle.setAttribute("aria-pressed", paused ? "true" : "false");
    toggle.textContent = paused ? "Resume live updates" : "Pause live updates";
  });
  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    document.querySelectorAll("[data-live]").forEach(function (part) {
      if (part.contains(document.activeElement) && document.activeElement !== document.body) {
        return;  // never pull the focused control away from a keyboard user
      }
      var next = fresh.getElementById(part.id);
      if (next && next.innerHTML !== part.innerHTML) { part.innerHTML = next.innerHTML; }
    });
    document.body.setAttribute("data-refreshed", String(Date.now()));
    if (!fresh.getElementById("live-toggle")) {  // finished: nothing more will change
      clearInterval(timer);
      var note = toggle.closest(".live-note");
      if (note) { note.hidden = true; }
    }
  }
  function tick() {
    if (paused || document.hidden) { return; }
    fetch(window.location.href, {credentials: "same-origin", headers: {"X-Live": "1"}})
      .then(function (answer) { return answer.ok && !answer.redirected ? answer.text() : null; })
      .then(function (html) { if (html) { swap(html); } })
      .catch(function () { /* the next tick tries again */ });
  }
  timer = setInterval(tick, every);
}());
