// "Exit this page": the button, or Shift pressed three times within five seconds, hides the
// page at once and replaces it (no history entry left to go back to) with the exit path,
// which ends the victim's session before it sends the browser to a neutral site.
// Without JavaScript the button is an ordinary link to the same path.
(function () {
  "use strict";
  // As the GOV.UK error summary does: focus it, so it is read out first.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  var button = document.querySelector("[data-exit-this-page]");
  if (!button) { return; }
  var exitPath = button.getAttribute("href");
  var hint = document.querySelector("[data-exit-this-page-hint]");
  if (hint) { hint.hidden = false; }
  var leaving = false;
  function leave(event) {
    if (event) { event.preventDefault(); }
    if (leaving) { return; }
    leaving = true;
    document.body.classList.add("exit-this-page--leaving");
    document.title = "Loading";
    window.location.replace(exitPath);
  }
  button.addEventListener("click", leave);
  var presses = 0;
  var timer = null;
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift") { presses = 0; return; }
    presses += 1;
    clearTimeout(timer);
    timer = setTimeout(function () { presses = 0; }, 5000);
    if (presses >= 3) { leave(null); }
  });
  // A page brought back from the back-forward cache must ask the server again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { window.location.reload(); }
  });
})();
