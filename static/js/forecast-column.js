// The backlog page's forecast option: each row shows the sprint its item is likely to land in
// (from the forecast API, the top 1,000 of the order), with its 85 % date on hover. The choice is
// remembered in this browser; rows added by "show more" or a filter get their badge too.
(function () {
  "use strict";
  var STORE = "ob-show-forecast";
  var pending = null;

  function toggle() {
    return document.getElementById("show-forecast");
  }

  function load(product) {
    if (!pending) {
      pending = fetch("/api/v1/products/" + encodeURIComponent(product) + "/forecast/?limit=1000", {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : { items: [] };
        })
        .then(function (body) {
          var byKey = {};
          body.items.forEach(function (item) {
            byKey[item.key] = item;
          });
          return byKey;
        });
    }
    return pending;
  }

  function apply() {
    var on = toggle();
    var list = document.getElementById("rows");
    document.querySelectorAll("#rows .forecast-badge").forEach(function (badge) {
      badge.remove();
    });
    if (!on || !on.checked || !list) return;
    load(list.dataset.product).then(function (byKey) {
      document.querySelectorAll("#rows li.row[data-key]").forEach(function (row) {
        var found = byKey[row.dataset.key];
        var title = row.querySelector(".title");
        if (!found || !title || row.querySelector(".forecast-badge")) return;
        var badge = document.createElement("span");
        badge.className = "badge forecast-badge";
        if (found.likely) {
          badge.textContent = "sprint " + found.likely.number;
          badge.title = found.p85 ? "85 %: by " + found.p85.ends : "sprint ends " + found.likely.ends;
        } else {
          badge.textContent = "no forecast";
          badge.title = "No capacity share for its class";
        }
        title.appendChild(document.createTextNode(" "));
        title.appendChild(badge);
      });
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.id !== "show-forecast") return;
    try {
      localStorage.setItem(STORE, event.target.checked ? "1" : "");
    } catch (ignored) {
      // Storage may be off: the option then lasts for this page only.
    }
    pending = null; // a fresh forecast each time it is turned on
    apply();
  });
  document.addEventListener("htmx:afterSwap", apply);
  document.addEventListener("DOMContentLoaded", function () {
    var on = toggle();
    if (!on) return;
    try {
      on.checked = localStorage.getItem(STORE) === "1";
    } catch (ignored) {
      on.checked = false;
    }
    apply();
  });
})();
