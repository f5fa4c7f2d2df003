/* The live board: polls /api/v1/admin/board and ticks elapsed seconds between polls.
 *
 * The server renders the first view (board.html); this script replaces the table bodies with
 * the same markup built from the JSON. Elapsed time ticks from the server's own figure plus
 * the time since it arrived, so a wrong clock on the admin's machine does not skew it.
 */
(function () {
  "use strict";

  var root = document.getElementById("board");
  if (!root) return;
  var endpoint = root.dataset.endpoint;
  var pollMs = Number(root.dataset.pollMs) || 1500;
  var promise = Number(root.dataset.promise) || 20;
  var receivedAt = performance.now();
  var status = document.getElementById("board-status");

  var STATUS_LABELS = {
    queued: "queued", calling_agent: "ringing agents", agent_connected: "dialling customer",
    connected: "connected", completed: "completed", failed: "failed", canceled: "canceled"
  };
  var STATUS_BADGES = {
    calling_agent: "ringing", agent_connected: "ringing", connected: "on_call",
    completed: "available", failed: "offline", canceled: "offline"
  };
  var STATE_LABELS = {
    available: "available", ringing: "ringing", on_call: "on a call",
    wrap_up: "wrap-up", offline: "offline"
  };
  var FINAL = { completed: true, failed: true, canceled: true };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (attrs[name] !== null && attrs[name] !== undefined) node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function historyLink(id, text, label) {
    return el("a", { href: "/admin/history/" + encodeURIComponent(id), "aria-label": label }, [text]);
  }

  function agentRow(agent) {
    var state = [el("span", { "class": "badge " + agent.state }, [STATE_LABELS[agent.state] || agent.state])];
    if (agent.state === "offline" && agent.presence !== "offline") {
      state.push(" ", el("span", { "class": "muted" }, ["(" + agent.presence + ")"]));
    }
    return el("tr", { "data-agent-id": agent.id, "data-state": agent.state }, [
      el("th", { scope: "row" }, [agent.name]),
      el("td", {}, state),
      el("td", {}, [agent.callback_id ? historyLink(agent.callback_id, agent.callback_id.slice(0, 8)) : null])
    ]);
  }

  /* What the "Waiting" cell says; `extra` is the seconds since the data arrived. */
  function waiting(cell, item, extra) {
    cell.textContent = "";
    if (item.connected_after_s !== null) {
      cell.appendChild(document.createTextNode("connected in " + item.connected_after_s.toFixed(1) + " s"));
      if (item.connected_after_s > promise) {
        cell.appendChild(document.createTextNode(" "));
        cell.appendChild(el("span", { "class": "error" }, ["(over " + promise + " s)"]));
      }
    } else if (FINAL[item.status]) {
      cell.appendChild(document.createTextNode("after " + Math.round(item.elapsed_s) + " s"));
    } else {
      var elapsed = item.elapsed_s + extra;
      var late = elapsed > promise;
      var text = Math.floor(elapsed) + " s" + (late ? " (over " + promise + " s)" : "");
      cell.appendChild(el("span", { "class": late ? "error" : null }, [text]));
    }
  }

  function callbackRow(item) {
    var cell = el("td", { "class": "elapsed", "data-elapsed": item.elapsed_s });
    waiting(cell, item, 0);
    cell._item = item;
    var statusCell = [el("span", { "class": "badge " + (STATUS_BADGES[item.status] || "") },
      [STATUS_LABELS[item.status] || item.status])];
    if (item.reason) statusCell.push(" ", el("span", { "class": "muted" }, [item.reason.replace(/_/g, " ")]));
    return el("tr", { "data-callback-id": item.id, "data-status": item.status }, [
      cell,
      el("td", {}, statusCell),
      el("td", {}, [item.agent || item.ringing.join(", ")]),
      el("td", {}, [item.page_title || ""]),
      el("td", { "class": "mono" }, [item.phone]),
      el("td", {}, [item.widget]),
      el("td", {}, [historyLink(item.id, "timeline", "Timeline of callback " + item.id.slice(0, 8))])
    ]);
  }

  function fill(tableId, items, build) {
    var body = document.querySelector("#" + tableId + " tbody");
    var rows = items.map(build);
    body.replaceChildren.apply(body, rows);
    body.closest(".table-wrap").hidden = items.length === 0;
    document.getElementById(tableId + "-empty").hidden = items.length > 0;
  }

  function render(data) {
    receivedAt = performance.now();
    fill("board-agents", data.agents, agentRow);
    fill("board-in-flight", data.in_flight, callbackRow);
    fill("board-recent", data.recent, callbackRow);
    status.textContent = "Updated " + data.at.slice(11, 19) + " UTC.";
    root.dataset.updatedAt = data.at;
  }

  function tick() {
    var extra = (performance.now() - receivedAt) / 1000;
    document.querySelectorAll("#board-in-flight td.elapsed").forEach(function (cell) {
      if (cell._item) waiting(cell, cell._item, extra);
    });
  }

  function poll() {
    fetch(endpoint, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) { if (data) render(data); })
      .catch(function () { status.textContent = "Connection lost; retrying…"; })
      .finally(function () { window.setTimeout(poll, pollMs); });
  }

  // The server-rendered rows tick too until the first poll replaces them.
  document.querySelectorAll("#board-in-flight td.elapsed").forEach(function (cell) {
    var after = cell.dataset.connectedAfter;
    cell._item = {
      elapsed_s: Number(cell.dataset.elapsed),
      connected_after_s: after === "" || after === undefined ? null : Number(after),
      status: cell.parentNode.dataset.status
    };
  });
  window.setInterval(tick, 250);
  window.setTimeout(poll, pollMs);
})();
