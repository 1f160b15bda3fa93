// Sprint planning: the commit button commits the plan whose figures are shown. When the ticks
// change, it waits until the new selection's figures are shown.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    if (!event.target.matches("#plan-form input[name=items]")) return;
    var commit = document.querySelector("#commit-form button[type=submit]");
    var note = document.getElementById("commit-stale");
    if (commit) commit.disabled = true;
    if (note) note.hidden = false;
  });
})();
