// Small behaviours of every page. Pages work without it; it makes them quicker to use.
(function () {
  "use strict";

  // The item form: show the fieldsets of the chosen kind only; inputs of hidden ones are
  // disabled, so they are not sent (the server refuses fields that do not belong to the kind).
  function syncKind(form) {
    const kind = form.querySelector("select[name=kind]");
    if (!kind) return;
    form.querySelectorAll("fieldset[data-kinds]").forEach(function (set) {
      const kinds = set.dataset.kinds.split(" ");
      const shown = kinds.indexOf(kind.value) !== -1;
      set.hidden = !shown;
      set.querySelectorAll("input, select, textarea").forEach(function (field) { field.disabled = !shown; });
    });
    const technical = form.dataset.technicalKinds.split(" ").indexOf(kind.value) !== -1;
    form.querySelectorAll("[data-technical]").forEach(function (el) { el.hidden = !technical; });
  }

  // "/" focuses the header's search box, unless the user is typing somewhere.
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const box = document.getElementById("header-q");
    if (!box || document.querySelector("dialog[open]")) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.item-form").forEach(function (form) {
      syncKind(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "kind") syncKind(form);
      });
    });
    // The "place" choice of review forms: show the extra input the choice needs.
    document.querySelectorAll("select[data-place]").forEach(function (select) {
      const form = select.form;
      function sync() {
        form.querySelectorAll("[data-needs]").forEach(function (el) {
          el.hidden = el.dataset.needs.split(" ").indexOf(select.value) === -1;
        });
      }
      select.addEventListener("change", sync);
      sync();
    });
    // A refused review decision: bring its proposal, which says why, into view.
    const refused = document.querySelector("article.card [role=alert]");
    if (refused) refused.scrollIntoView({ block: "center" });
  });
})();
