// Reordering the backlog in the browser: drag and drop (mouse and touch), the keyboard, and
// block moves of selected rows. Every change is saved at once through the REST API (the same
// services and permission checks as everywhere); a failed save puts the row back and says why.
(function () {
  "use strict";

  // The list is looked up afresh each time: filters, "show more" and the Back button replace it.
  function theList() { return document.getElementById("rows"); }
  function canReorder() { const list = theList(); return Boolean(list) && list.dataset.reorder === "1"; }
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  let sayTimer = null;
  // Moves are saved one after another, so a failed one is undone against the state it saw.
  let queue = Promise.resolve();
  function enqueue(task) { queue = queue.then(task, task); return queue; }

  function say(message, isError) {
    const live = document.getElementById("live");  // the Back button can bring a new one
    live.textContent = message;
    live.classList.toggle("error", Boolean(isError));
    clearTimeout(sayTimer);
    sayTimer = setTimeout(function () { document.getElementById("live").textContent = ""; }, isError ? 9000 : 3500);
  }

  async function post(path, body) {
    let response;
    try {
      response = await fetch(theList().dataset.api + path, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      });
    } catch (error) {
      throw new Error("the connection was lost");
    }
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    if (!response.ok) {
      const failure = new Error((data && data.error && data.error.message) || "the server answered " + response.status);
      failure.fields = (data && data.error && data.error.fields) || {};
      throw failure;
    }
    return data;
  }

  function rows() { const list = theList(); return list ? Array.from(list.querySelectorAll(":scope > li.row")) : []; }

  function renumber() {
    if (theList().dataset.filtered === "1") return;
    const all = rows();
    const positions = all.map(function (row) { return parseInt(row.dataset.position, 10); }).filter(Number.isFinite);
    if (!positions.length) return;
    const start = Math.min.apply(null, positions);
    all.forEach(function (row, index) {
      row.dataset.position = String(start + index);
      const number = row.querySelector(".num");
      if (number) number.textContent = String(start + index);
    });
  }

  function neighbourRow(row, direction) {
    let next = direction < 0 ? row.previousElementSibling : row.nextElementSibling;
    while (next && !next.classList.contains("row")) next = direction < 0 ? next.previousElementSibling : next.nextElementSibling;
    return next;
  }

  // A move within the loaded rows: shown at once, saved, undone if the save fails.
  // ``where`` gives the node to insert the row before, worked out when the move's turn comes.
  function moveHere(row, where, label) {
    return enqueue(function () { return moveHereNow(row, where(), label); });
  }

  async function moveHereNow(row, beforeNode, label) {
    const list = theList();
    if (!list.contains(row)) return;
    const oldNext = row.nextSibling;
    if (beforeNode === row || beforeNode === oldNext || (beforeNode && beforeNode === neighbourRow(row, 1))) return;
    list.insertBefore(row, beforeNode);
    renumber();
    const previous = neighbourRow(row, -1);
    const next = neighbourRow(row, 1);
    const placement = previous ? { to: "after", anchor: previous.dataset.key } : { to: "before", anchor: next.dataset.key };
    row.classList.add("saving");
    row.setAttribute("aria-busy", "true");
    row.focus();
    try {
      const result = await post("items/" + row.dataset.id + "/move/", placement);
      say(row.dataset.key + " " + label + nowAt(result, 1) + ".");
    } catch (error) {
      list.insertBefore(row, oldNext);
      renumber();
      say("The move of " + row.dataset.key + " was not saved (" + error.message + "); it is back where it was.", true);
    } finally {
      row.classList.remove("saving");
      row.removeAttribute("aria-busy");
      row.focus();
    }
  }

  // After a move the loaded rows cannot show, the list is fetched again; focus stays on the
  // moved row if it is still shown, else on the row now at the place it left.
  function refresh(focusId, index) {
    return htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#backlog", swap: "innerHTML" })
      .then(function () {
        updateSelection();
        const all = rows();
        const row = (focusId && document.getElementById("item-" + focusId)) || all[Math.min(index || 0, all.length - 1)];
        if (row) row.focus();
      });
  }

  // A move the loaded rows cannot show by themselves (top, bottom, position N, a block): saved,
  // then the rows are fetched again from the server.
  function moveAway(ids, keys, placement, label) {
    return enqueue(function () { return moveAwayNow(ids, keys, placement, label); });
  }

  async function moveAwayNow(ids, keys, placement, label) {
    const index = rows().findIndex(function (row) { return row.dataset.id === String(ids[0]); });
    const product = theList().dataset.product;
    let result;
    try {
      if (keys.length === 1) {
        result = await post("items/" + ids[0] + "/move/", placement);
      } else {
        result = await post("products/" + encodeURIComponent(product) + "/items/move/", Object.assign({ items: keys }, placement));
      }
    } catch (error) {
      say("Not moved (" + error.message + "): the order is unchanged.", true);
      return;
    }
    await refresh(ids[0], index);
    let message = (keys.length === 1 ? keys[0] : keys.length + " items") + " " + label + nowAt(result, keys.length);
    if (placement.to === "position" && result && result.position && result.position < placement.position) {
      message += " (the end of the backlog: there is no position " + placement.position + ")";
    }
    say(message + ".");
  }

  // Where the moved items are now, as the server says (a position past the end puts them last).
  function nowAt(result, count) {
    const first = result && result.position;
    if (!first) return "";
    return count > 1 ? ": now at positions " + first + "–" + (first + count - 1) : ": now at position " + first;
  }

  function move(row, how, position) {
    if (how === "up") {
      return moveHere(row, function () {
        const previous = neighbourRow(row, -1);
        if (!previous) say(row.dataset.key + " is already the first row shown.");
        return previous || row;
      }, "moved up");
    }
    if (how === "down") {
      return moveHere(row, function () {
        const next = neighbourRow(row, 1);
        if (!next) say(row.dataset.key + " is already the last row shown.");
        return next ? next.nextSibling : row;
      }, "moved down");
    }
    if (how === "top") return moveAway([row.dataset.id], [row.dataset.key], { to: "top" }, "moved to the top");
    if (how === "bottom") return moveAway([row.dataset.id], [row.dataset.key], { to: "bottom" }, "moved to the bottom");
    if (how === "position") {
      return moveAway([row.dataset.id], [row.dataset.key], { to: "position", position: position }, "moved");
    }
  }

  function askPosition(row) {
    const menu = row.querySelector(".row-menu");
    if (!menu) return;
    menu.open = true;
    menu.querySelector("input").focus();
  }

  // The keyboard: arrows walk the rows; Alt with arrows, Home, End or P moves; Space selects.
  document.addEventListener("keydown", function (event) {
    if (!canReorder()) return;
    const row = event.target.closest && event.target.closest("#rows > li.row");
    if (!row || event.target !== row) return;
    const key = event.key;
    if (event.altKey && (key === "ArrowUp" || key === "ArrowDown")) {
      event.preventDefault();
      move(row, key === "ArrowUp" ? "up" : "down");
    } else if (event.altKey && (key === "Home" || key === "End")) {
      event.preventDefault();
      move(row, key === "Home" ? "top" : "bottom");
    } else if (event.altKey && (event.code === "KeyP" || key === "p" || key === "P")) {
      event.preventDefault();
      askPosition(row);
    } else if (!event.altKey && (key === "ArrowUp" || key === "ArrowDown")) {
      event.preventDefault();
      const other = neighbourRow(row, key === "ArrowUp" ? -1 : 1);
      if (other) other.focus();
    } else if (key === " ") {
      const box = row.querySelector("input.select");
      if (!box) return;
      event.preventDefault();
      box.checked = !box.checked;
      updateSelection();
    }
  });

  // The row menu: the same moves with buttons.
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("#rows button[data-move]");
    if (!button) return;
    const row = button.closest("li.row");
    button.closest("details").open = false;
    move(row, button.dataset.move);
  });
  document.addEventListener("submit", function (event) {
    const form = event.target.closest && event.target.closest("#rows form[data-move=position]");
    if (!form) return;
    event.preventDefault();
    const value = parseInt(form.querySelector("input").value, 10);
    const row = form.closest("li.row");
    form.closest("details").open = false;
    if (!(value >= 1)) return say("Give a position of 1 or more.", true);
    move(row, "position", value);
  });

  // Drag and drop with the mouse or a finger (pointer events), with a drop indicator.
  let drag = null;

  function dropTarget(clientY) {
    const others = rows().filter(function (row) { return row !== drag.row; });
    for (const row of others) {
      const box = row.getBoundingClientRect();
      if (clientY < box.top + box.height / 2) return row;
    }
    const last = others[others.length - 1];
    return last ? last.nextSibling : null;
  }

  // The indicator is absolutely positioned: its top is measured from the padding box of the
  // box it is positioned against (its offsetParent, the list), not from the viewport or the page.
  function showIndicator(target) {
    const origin = drag.indicator.offsetParent || document.documentElement;
    const top = origin.getBoundingClientRect().top + origin.clientTop;
    let y;
    if (target && target.classList && target.classList.contains("row")) {
      y = target.getBoundingClientRect().top;
    } else {
      const all = rows().filter(function (row) { return row !== drag.row; });
      const last = all[all.length - 1];
      y = last ? last.getBoundingClientRect().bottom : top;
    }
    drag.indicator.style.top = y - top - 1 + "px";
  }

  document.addEventListener("pointerdown", function (event) {
    const handle = event.target.closest && event.target.closest("#rows .handle");
    if (!handle || event.button > 0 || !canReorder()) return;
    event.preventDefault();
    const row = handle.closest("li.row");
    handle.setPointerCapture(event.pointerId);
    const indicator = document.createElement("div");
    indicator.className = "drop-indicator";
    indicator.setAttribute("aria-hidden", "true");
    theList().appendChild(indicator);
    drag = { row: row, pointer: event.pointerId, indicator: indicator, target: row.nextSibling };
    row.classList.add("dragging");
    showIndicator(drag.target);
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerId !== drag.pointer) return;
    drag.target = dropTarget(event.clientY);
    showIndicator(drag.target);
    if (event.clientY < 40) window.scrollBy(0, -20);
    else if (event.clientY > window.innerHeight - 40) window.scrollBy(0, 20);
  });

  function endDrag(drop) {
    if (!drag) return;
    const current = drag;
    drag = null;
    current.indicator.remove();
    current.row.classList.remove("dragging");
    if (drop) moveHere(current.row, function () { return current.target; }, "moved");
  }
  document.addEventListener("pointerup", function (event) { if (drag && event.pointerId === drag.pointer) endDrag(true); });
  document.addEventListener("pointercancel", function () { endDrag(false); });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") endDrag(false); });

  // Selecting rows and moving them as a block.
  function isSelected(row) {
    const box = row.querySelector("input.select");
    return Boolean(box && box.checked);
  }

  function selected() { return rows().filter(isSelected); }

  function updateSelection() {
    const toolbar = document.getElementById("selection");
    rows().forEach(function (row) { row.classList.toggle("selected", isSelected(row)); });
    if (!toolbar) return;
    const count = selected().length;
    document.getElementById("selected-count").textContent = String(count);
    toolbar.hidden = count === 0;
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("#rows input.select")) updateSelection();
  });

  // "Show the next 50" after local moves can bring back a row already shown: keep the first.
  document.body.addEventListener("htmx:afterSwap", function () {
    const seen = new Set();
    rows().forEach(function (row) {
      if (seen.has(row.dataset.id)) row.remove();
      else seen.add(row.dataset.id);
    });
    if (theList()) renumber();
    updateSelection();
  });

  function blockMove(placement, label) {
    const chosen = selected();
    if (!chosen.length) return;
    moveAway(
      chosen.map(function (row) { return row.dataset.id; }),
      chosen.map(function (row) { return row.dataset.key; }),
      placement,
      label
    );
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("#selection button[data-block]");
    if (!button) return;
    if (button.dataset.block === "clear") {
      rows().forEach(function (row) { row.querySelector("input.select").checked = false; });
      return updateSelection();
    }
    blockMove({ to: button.dataset.block }, "moved to the " + button.dataset.block);
  });
  document.addEventListener("submit", function (event) {
    if (!event.target.matches || !event.target.matches("#block-position")) return;
    event.preventDefault();
    const value = parseInt(document.getElementById("block-to").value, 10);
    if (!(value >= 1)) return say("Give a position of 1 or more.", true);
    blockMove({ to: "position", position: value }, "moved");
  });

  // Editing the selected rows together: one request to the bulk edit API, all or nothing (its
  // answer names each refused item and why); the list is fetched again once it is saved.
  function names(value) {
    return value.split(",").map(function (name) { return name.trim(); }).filter(Boolean);
  }

  document.addEventListener("submit", function (event) {
    if (!event.target.matches || !event.target.matches("#bulk-form")) return;
    event.preventDefault();
    const form = event.target;
    const chosen = selected();
    if (!chosen.length) return say("Select the items to edit first.", true);
    const body = { items: chosen.map(function (row) { return { item: row.dataset.key }; }) };
    const add = names(form.elements.add_labels.value);
    const remove = names(form.elements.remove_labels.value);
    if (add.length) body.add_labels = add;
    if (remove.length) body.remove_labels = remove;
    const set = {};
    if (form.elements.kind.value) set.kind = form.elements.kind.value;
    if (form.elements.business_value && form.elements.business_value.value) {
      set.business_value = parseInt(form.elements.business_value.value, 10);
    }
    if (Object.keys(set).length) body.set = set;
    if (form.elements.status.value) body.status = form.elements.status.value;
    if (!add.length && !remove.length && !body.set && !body.status) {
      return say("Choose what to change: labels, kind, status or value.", true);
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    enqueue(async function () {
      try {
        const result = await post("products/" + theList().dataset.product + "/items/bulk/", body);
        form.reset();
        document.getElementById("bulk-edit").open = false;
        await refresh(null, 0);
        const count = result.changed.length;
        say(count + (count === 1 ? " item" : " items") + " changed" +
          (result.unchanged.length ? "; " + result.unchanged.length + " already so." : "."));
      } catch (error) {
        const refused = (error.fields && error.fields.items) || [];
        say("Nothing was changed: " + (refused.length ? refused.join(" ") : error.message), true);
      } finally {
        button.disabled = false;
      }
    });
  });
})();
