// The command palette (Ctrl/⌘-K, or the header's ⌘K button): go to an item by key or title (the
// search API, debounced), switch product, open a saved view, add an item. "?" lists every shortcut.
// Both are modal <dialog>s: the page behind is inert, Tab stays inside, Escape closes, and focus
// goes back where it was.
(function () {
  "use strict";
  var DEBOUNCE_MS = 180;
  var palette, input, list, opener, timer = null, serial = 0, views = null;
  var staticEntries = [], searchEntries = [], shown = [], chosen = -1, pendingEnter = false, busy = false;

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function entry(group, label, url, hint) {
    return { group: group, label: label, url: url, hint: hint || "" };
  }

  function baseEntries() {
    var entries = [];
    if (palette.dataset.new) entries.push(entry("Add", palette.dataset.newLabel, palette.dataset.new));
    (views || []).forEach(function (view) {
      entries.push(entry("View", view.name, view.url, view.shared ? "shared" : "private"));
    });
    document.querySelectorAll("#palette-products li").forEach(function (li) {
      entries.push(entry("Product", li.textContent + " (" + li.dataset.key + ")", li.dataset.url, "switch product"));
    });
    entries.push(entry("Help", "Keyboard shortcuts", "#shortcuts", "?"));
    return entries;
  }

  function matches(text, entries) {
    var words = text.toLowerCase().split(/\s+/).filter(Boolean);
    return entries.filter(function (e) {
      var hay = (e.group + " " + e.label + " " + e.hint).toLowerCase();
      return words.every(function (w) { return hay.indexOf(w) !== -1; });
    });
  }

  function render() {
    var text = input.value.trim();
    shown = searchEntries.concat(text ? matches(text, staticEntries) : staticEntries);
    if (text) {
      var page = palette.dataset.searchPage + "?q=" + encodeURIComponent(text);
      if (palette.dataset.product) page += "&product=" + encodeURIComponent(palette.dataset.product);
      shown.push(entry("Search", "All results for “" + text + "”", page));
    }
    list.textContent = "";
    shown.forEach(function (e, index) {
      var li = document.createElement("li");
      li.id = "palette-option-" + index;
      li.setAttribute("role", "option");
      li.dataset.index = String(index);
      var group = document.createElement("span");
      group.className = "group";
      group.textContent = e.group;
      var label = document.createElement("span");
      label.textContent = e.label;
      li.appendChild(group);
      li.appendChild(label);
      if (e.hint) {
        var hint = document.createElement("span");
        hint.className = "muted";
        hint.textContent = e.hint;
        li.appendChild(hint);
      }
      list.appendChild(li);
    });
    choose(shown.length ? 0 : -1);
  }

  function choose(index) {
    chosen = index;
    list.querySelectorAll("[role=option]").forEach(function (li, i) {
      li.setAttribute("aria-selected", i === index ? "true" : "false");
      if (i === index) li.scrollIntoView({ block: "nearest" });
    });
    if (index >= 0) input.setAttribute("aria-activedescendant", "palette-option-" + index);
    else input.removeAttribute("aria-activedescendant");
  }

  function activate(index) {
    var e = shown[index];
    if (!e) return;
    if (e.url === "#shortcuts") {
      palette.close();
      openShortcuts();
      return;
    }
    window.location.assign(e.url);
  }

  function search() {
    timer = null;
    var text = input.value.trim();
    var mine = ++serial;
    if (!text) {
      searchEntries = [];
      render();
      return Promise.resolve();
    }
    var url = palette.dataset.search + "?page_size=8&q=" + encodeURIComponent(text.slice(0, 200));
    if (palette.dataset.product) url += "&product=" + encodeURIComponent(palette.dataset.product);
    busy = true;
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { key_match: null, results: [] }; })
      .catch(function () { return { key_match: null, results: [] }; })
      .then(function (body) {
        if (mine !== serial) return;
        busy = false;
        var found = [];
        var seen = {};
        if (body.key_match) {
          found.push(entry("Item", body.key_match.key + " " + body.key_match.title, body.key_match.url, body.key_match.status));
          seen[body.key_match.id] = true;
        }
        body.results.forEach(function (hit) {
          if (seen[hit.item.id]) return;
          found.push(entry("Item", hit.item.key + " " + hit.item.title, hit.item.url, hit.item.status));
        });
        searchEntries = found;
        render();
        if (pendingEnter) {
          pendingEnter = false;
          activate(0);
        }
      });
  }

  function loadViews() {
    if (views !== null || !palette.dataset.views) return;
    views = [];
    fetch(palette.dataset.views + "?page_size=200", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (body) {
        views = body.results;
        staticEntries = baseEntries();
        if (palette.open) render();
      })
      .catch(function () {});
  }

  function openPalette() {
    if (palette.open) return;
    var other = document.getElementById("shortcuts");
    if (other && other.open) other.close();
    opener = document.activeElement;
    input.value = "";
    searchEntries = [];
    staticEntries = baseEntries();
    render();
    palette.showModal();
    input.focus();
    loadViews();
  }

  function openShortcuts() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog || dialog.open) return;
    if (!palette.open) opener = document.activeElement;
    dialog.showModal();
    dialog.querySelector("button").focus();
  }

  function restoreFocus() {
    if (opener && typeof opener.focus === "function" && document.body.contains(opener)) opener.focus();
  }

  // Tab and Shift+Tab cycle through the dialog's own controls.
  function trapFocus(dialog, event) {
    if (event.key !== "Tab") return;
    var controls = Array.prototype.filter.call(
      dialog.querySelectorAll("input, button, a[href], [tabindex]:not([tabindex='-1'])"),
      function (el) { return !el.disabled && el.offsetParent !== null; }
    );
    if (!controls.length) return;
    var first = controls[0], last = controls[controls.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    palette = document.getElementById("palette");
    if (!palette) return;
    input = document.getElementById("palette-input");
    list = document.getElementById("palette-list");
    var shortcuts = document.getElementById("shortcuts");

    input.addEventListener("input", function () {
      pendingEnter = false;
      render();
      if (timer) clearTimeout(timer);
      timer = setTimeout(search, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!shown.length) return;
        var step = event.key === "ArrowDown" ? 1 : -1;
        choose((chosen + step + shown.length) % shown.length);
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (timer || busy) {
          // Typed faster than the search answered: open the best match when it does.
          pendingEnter = true;
          if (timer) {
            clearTimeout(timer);
            search();
          }
        } else {
          activate(chosen);
        }
      }
    });
    list.addEventListener("click", function (event) {
      var li = event.target.closest("[role=option]");
      if (li) activate(Number(li.dataset.index));
    });
    palette.addEventListener("keydown", function (event) { trapFocus(palette, event); });
    palette.addEventListener("close", restoreFocus);
    if (shortcuts) {
      shortcuts.addEventListener("keydown", function (event) { trapFocus(shortcuts, event); });
      shortcuts.addEventListener("close", restoreFocus);
    }
    document.querySelectorAll("[data-palette-open]").forEach(function (button) {
      button.addEventListener("click", openPalette);
    });

    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "k" || event.key === "K")) {
        event.preventDefault();
        if (palette.open) palette.close();
        else openPalette();
      } else if (event.key === "?" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target)) {
        event.preventDefault();
        openShortcuts();
      }
    });
  });
})();
