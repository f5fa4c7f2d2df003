/* Callback admin: shared behaviour for the admin pages (no dependencies, no inline handlers).
 *
 * - Admin.api(method, url, body): fetch against the admin API with the page's CSRF token.
 * - [data-copy="ID"] buttons copy the text of element ID and announce it.
 * - forms with data-confirm="question" ask before submitting.
 * - <ol data-reorder data-reorder-url=…> lists: drag and drop, Alt+Arrow keys or the
 *   up/down buttons reorder the items; each move is announced and saved at once.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function api(method, url, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { ok: response.ok, status: response.status, json: json };
      });
    });
  }

  function announce(region, text) {
    if (!region) { return; }
    // Clearing first makes screen readers repeat a message that did not change.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 30);
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr-only";
    document.body.appendChild(area);
    area.select();
    var done = document.execCommand("copy");
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function initCopy(button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById(button.getAttribute("data-copy-status"));
      if (!source) { return; }
      copyText(source.textContent.trim()).then(
        function () { announce(status, "Copied to the clipboard."); },
        function () { announce(status, "Copy failed: select the text and copy it by hand."); }
      );
    });
  }

  function initConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  }

  function initReorder(list) {
    var status = document.getElementById(list.getAttribute("data-status"));
    var url = list.getAttribute("data-reorder-url");
    var dragged = null;

    function items() { return Array.prototype.slice.call(list.querySelectorAll("li[data-id]")); }
    function nameOf(item) { return item.getAttribute("data-name"); }

    function renumber() {
      var all = items();
      all.forEach(function (item, index) {
        item.querySelector(".pos").textContent = String(index + 1);
        item.setAttribute("aria-posinset", String(index + 1));
        item.setAttribute("aria-setsize", String(all.length));
      });
    }

    function save(moved) {
      var ids = items().map(function (item) { return Number(item.getAttribute("data-id")); });
      var position = items().indexOf(moved) + 1;
      announce(status, nameOf(moved) + " moved to position " + position + " of " + ids.length + ". Saving…");
      list.setAttribute("aria-busy", "true");
      api("PUT", url, { agent_ids: ids }).then(function (result) {
        list.removeAttribute("aria-busy");
        if (result.ok) {
          announce(status, nameOf(moved) + " is now at position " + position + " of " + ids.length + ". Order saved.");
          list.setAttribute("data-saved", ids.join(","));
        } else {
          var message = (result.json.error && result.json.error.message) || "the server refused it";
          announce(status, "Order not saved: " + message);
        }
      }, function () {
        list.removeAttribute("aria-busy");
        announce(status, "Order not saved: the server could not be reached.");
      });
    }

    function move(item, delta) {
      var all = items();
      var index = all.indexOf(item);
      var target = index + delta;
      if (target < 0 || target >= all.length) { return; }
      if (delta < 0) { list.insertBefore(item, all[target]); }
      else { list.insertBefore(item, all[target].nextSibling); }
      renumber();
      save(item);
    }

    items().forEach(function (item) {
      item.setAttribute("draggable", "true");
      item.addEventListener("keydown", function (event) {
        if (event.target !== item || !event.altKey) { return; }
        if (event.key === "ArrowUp") { event.preventDefault(); move(item, -1); item.focus(); }
        if (event.key === "ArrowDown") { event.preventDefault(); move(item, 1); item.focus(); }
      });
      item.querySelectorAll("[data-move]").forEach(function (button) {
        button.addEventListener("click", function () {
          move(item, Number(button.getAttribute("data-move")));
          button.focus();
        });
      });
      item.addEventListener("dragstart", function (event) {
        dragged = item;
        item.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", item.getAttribute("data-id"));
      });
      item.addEventListener("dragend", function () {
        item.classList.remove("dragging");
        items().forEach(function (other) { other.classList.remove("drop-target"); });
        dragged = null;
      });
      item.addEventListener("dragover", function (event) {
        if (!dragged || dragged === item) { return; }
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        item.classList.add("drop-target");
      });
      item.addEventListener("dragleave", function () { item.classList.remove("drop-target"); });
      item.addEventListener("drop", function (event) {
        event.preventDefault();
        item.classList.remove("drop-target");
        if (!dragged || dragged === item) { return; }
        var all = items();
        if (all.indexOf(dragged) < all.indexOf(item)) { list.insertBefore(dragged, item.nextSibling); }
        else { list.insertBefore(dragged, item); }
        renumber();
        save(dragged);
      });
    });
    renumber();
  }

  window.Admin = { api: api, announce: announce, csrfToken: csrfToken };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(initCopy);
    document.querySelectorAll("form[data-confirm]").forEach(initConfirm);
    document.querySelectorAll("[data-reorder]").forEach(initReorder);
    document.querySelectorAll("[data-reload-frame]").forEach(function (button) {
      button.addEventListener("click", function () {
        var frame = document.getElementById(button.getAttribute("data-reload-frame"));
        if (frame) { frame.src = frame.src; }
      });
    });
  });
})();
