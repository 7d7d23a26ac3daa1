// The queue reloads itself every minute (data-refresh-seconds), except while the reader
// is using a form on it, has an error to read, or has paused it (WCAG 2.2.1: a time limit
// the user can turn off). Without JavaScript a <noscript> meta refresh does the reloading.
// A reload asks for the page with auto_refresh=1, which the server does not count as use,
// so an unattended screen is signed out after the idle timeout (the reload then lands on
// the sign-in page, saying so). The address bar drops the marker, so reloading by hand
// counts as use.
(function () {
  "use strict";
  var status = document.getElementById("queue-refresh");
  if (!status) {
    return;
  }
  if (window.history && window.history.replaceState && window.URLSearchParams) {
    var params = new URLSearchParams(window.location.search);
    if (params.has("auto_refresh")) {
      params.delete("auto_refresh");
      var rest = params.toString();
      window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
    }
  }
  var url = status.getAttribute("data-refresh-url") || window.location.pathname;
  var seconds = parseInt(status.getAttribute("data-refresh-seconds"), 10) || 60;
  var paused = false;

  var toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "link-button";
  toggle.id = "queue-refresh-pause";
  toggle.textContent = "Pause refreshing";
  toggle.setAttribute("aria-pressed", "false");
  toggle.addEventListener("click", function () {
    paused = !paused;
    toggle.setAttribute("aria-pressed", paused ? "true" : "false");
  });
  status.appendChild(document.createTextNode(" "));
  status.appendChild(toggle);

  function busy() {
    var active = document.activeElement;
    if (active && active.closest && active.closest("form")) {
      return true;
    }
    return document.querySelector("details[open], .error-summary") !== null;
  }

  window.setInterval(function () {
    if (!paused && !document.hidden && !busy()) {
      window.location.replace(url);
    }
  }, seconds * 1000);
})();
