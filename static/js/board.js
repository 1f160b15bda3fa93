// The sprint board: drag a card to the next column (open → in progress → done). The drop does what
// the card's own button does (keyboard users press it): start posts the card's form, with the
// version the page was rendered with (a stale card is refused, as If-Match is in the API); done
// opens the Definition of Done checklist.
(function () {
  "use strict";
  var NEXT = { open: "in_progress", in_progress: "done" };
  var dragged = null;

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".board-card[draggable=true]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.key);
  });

  document.addEventListener("dragend", function () {
    dragged = null;
    document.querySelectorAll(".column.drop-target").forEach(function (column) {
      column.classList.remove("drop-target");
    });
  });

  function targetColumn(event) {
    var column = event.target.closest && event.target.closest(".column");
    if (!column || !dragged || NEXT[dragged.dataset.status] !== column.dataset.status) return null;
    return column;
  }

  document.addEventListener("dragover", function (event) {
    var column = targetColumn(event);
    if (!column) return;
    event.preventDefault();
    column.classList.add("drop-target");
  });

  document.addEventListener("dragleave", function (event) {
    var column = event.target.closest && event.target.closest(".column");
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-target");
  });

  document.addEventListener("drop", function (event) {
    var column = targetColumn(event);
    if (!column) return;
    event.preventDefault();
    var card = dragged;
    if (column.dataset.status === "in_progress") {
      var form = card.querySelector("form.to-in_progress");
      if (form) form.requestSubmit();
    } else if (column.dataset.status === "done") {
      var link = card.querySelector("a.to-done");
      if (link) window.location.assign(link.href);
    }
  });
})();
