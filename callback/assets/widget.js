/*! Callback widget | MIT | served minified at /widget.js */
/*
 * Embed:  <script async src="https://HOST/widget.js" data-widget="KEY"></script>
 * API:    window.Callback('open' | 'close'); calls made before the script loads are queued by
 *         window.Callback = window.Callback || function () {
 *           (window.Callback.q = window.Callback.q || []).push(arguments) };
 * Events: callback:shown, :open, :close, :submitted, :status, :error on window (CustomEvent),
 *         also pushed to window.dataLayer when the page has one.
 *
 * Rules this file keeps (see README, "The widget"): one global; everything inside a Shadow DOM
 * with styles in a constructed stylesheet (no inline styles or handlers, no eval: a strict CSP
 * is fine); the texts come from the server in the visitor's language; before a trigger fires
 * only cheap passive listeners and at most one 1-second interval run; the panel is built only
 * when it first opens; storage is optional (private mode).
 */
(function (w, d) {
  "use strict";
  var prior = w.Callback;
  if (prior && prior.loaded) return;

  var script = d.currentScript || d.querySelector("script[data-widget]");
  var key = script && script.getAttribute("data-widget");
  var base = script ? new URL(script.src, location.href).origin : "";
  var pending = [].slice.call((prior && prior.q) || []);
  var FINAL = { completed: 1, failed: 1, canceled: 1, scheduled: 1 };
  var COUNTDOWN = 20;
  var cfg, texts, ui, isOpen, returnFocus, openedAt;
  var visitor, session, armed, tick;

  function api(command) {
    if (!ui) return pending.push(arguments);
    if (command === "open") open("api");
    else if (command === "close") close();
  }
  api.loaded = true;
  w.Callback = api;

  function emit(name, detail) {
    detail = detail || {};
    try {
      w.dispatchEvent(new CustomEvent("callback:" + name, { detail: detail }));
    } catch (e) { /* a host page that broke CustomEvent must not break us */ }
    var layer = w.dataLayer;
    if (Array.isArray(layer)) {
      var entry = { event: "callback:" + name };
      for (var k in detail) entry["callback_" + k] = detail[k];
      layer.push(entry);
    }
  }

  // Storage may be missing or throw (private mode, sandboxed frames): state then lives a page.
  function load(area) {
    try { return JSON.parse(w[area].getItem("callback:" + key)) || {}; } catch (e) { return {}; }
  }
  function save(area, value) {
    try { w[area].setItem("callback:" + key, JSON.stringify(value)); } catch (e) { /* ignore */ }
  }

  function languages() {
    var tags = [d.documentElement.lang].concat(navigator.languages || [navigator.language]);
    return tags.filter(function (t) {
      return /^[a-z]{2,3}(-[a-z0-9]{1,8}){0,3}$/i.test(t || "");
    }).slice(0, 10);
  }

  function ready(fn) {
    if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  function start() {
    if (!key) return console.warn("Callback: data-widget is missing on the script tag");
    var now = Date.now();
    visitor = load("localStorage");
    session = load("sessionStorage");
    if (!session.start) {
      session = { start: now, pages: 0, products: [], returning: !!visitor.visits };
      visitor.visits = (visitor.visits || 0) + 1;
    }
    session.pages = (session.pages || 0) + 1;
    session.products = session.products || [];
    var query = new URLSearchParams(location.search);
    ["source", "medium", "campaign"].forEach(function (name) {
      var value = query.get("utm_" + name);
      if (value) (session.utm = session.utm || {})[name] = value;
    });
    save("sessionStorage", session);
    save("localStorage", visitor);

    var url = base + "/api/v1/widgets/" + encodeURIComponent(key) +
      "?lang=" + encodeURIComponent(languages().join(","));
    fetch(url, { credentials: "omit" }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw (body.error || {}).code || "http_" + response.status;
        cfg = body;
        texts = body.texts;
        ready(mount);
      });
    }).catch(function (code) {
      code = typeof code === "string" ? code : "network";
      console.warn("Callback: the widget config could not be loaded (" + code + ")");
      emit("error", { code: code });
    });
  }

  /* ---------- DOM helpers ---------- */

  function el(tag, attrs, children) {
    var node = tag === "svg" || tag === "path"
      ? d.createElementNS("http://www.w3.org/2000/svg", tag) : d.createElement(tag);
    for (var name in attrs || {}) {
      if (attrs[name] !== null) node.setAttribute(name, attrs[name]);
    }
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? d.createTextNode(child) : child);
    });
    return node;
  }
  function show(node, visible) { node.hidden = !visible; }
  function say(node, text) { node.textContent = text || ""; }

  var CSS =
    // No box of its own (display: contents): nothing on the page moves, whatever its CSS.
    ":host{all:initial!important;display:contents!important}" +
    ".w{display:contents;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1d1d1f}" +
    ":where(.w *){box-sizing:border-box;font:inherit;color:inherit;margin:0;letter-spacing:normal;text-transform:none}" +
    "[hidden]{display:none!important}" +
    ".fab{position:fixed;z-index:2147483000;bottom:20px;right:20px;width:56px;height:56px;padding:0;border:0;" +
    "border-radius:50%;background:var(--a);color:var(--t);cursor:pointer;display:flex;align-items:center;" +
    "justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.3)}" +
    ".fab svg{width:26px;height:26px;fill:currentColor}" +
    ".p{position:fixed;z-index:2147483001;bottom:88px;right:20px;width:340px;max-width:calc(100vw - 40px);" +
    "max-height:calc(100vh - 108px);overflow:auto;padding:20px;background:#fff;border-radius:14px;" +
    "box-shadow:0 10px 40px rgba(0,0,0,.3);animation:in .2s ease-out}" +
    ".l .fab,.l .p{right:auto;left:20px}" +
    "@keyframes in{from{opacity:0;transform:translateY(8px)}}" +
    "h2{font-size:18px;font-weight:700;margin:0 32px 6px 0}" +
    ".x{position:absolute;top:10px;right:10px;width:36px;height:36px;padding:0;border:0;border-radius:8px;" +
    "background:none;font-size:24px;line-height:1;cursor:pointer}" +
    "label{display:block;font-size:13px;font-weight:600;margin:14px 0 4px}" +
    ".r{display:flex;gap:6px}" +
    "select,input{height:44px;min-width:0;padding:0 10px;border:1px solid #76767a;border-radius:8px;background:#fff}" +
    "input{flex:1}" +
    "[aria-invalid=true]{border-color:#b3261e;border-width:2px}" +
    ".go,.ag{width:100%;height:46px;margin-top:14px;border:0;border-radius:8px;background:var(--a);" +
    "color:var(--t);font-weight:700;cursor:pointer}" +
    ".go[aria-disabled=true]{opacity:.6;cursor:wait}#cb-slot{width:100%}" +
    ".e{margin-top:8px;color:#b3261e;font-size:13px}.e:empty{display:none}" +
    ".f{margin-top:10px;color:#555;font-size:12px}" +
    "a{color:#0b57a4;text-decoration:underline}" +
    ".h{position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden}" +
    ".u{text-align:center;padding:8px 0}" +
    ".n{font-size:48px;font-weight:800;line-height:1.1;color:var(--a);font-variant-numeric:tabular-nums}" +
    ".s{margin-top:10px;min-height:42px}" +
    ":focus-visible{outline:3px solid #1a73e8;outline-offset:2px}" +
    "@media (max-width:480px){.p,.l .p{left:0;right:0;bottom:0;width:auto;max-width:none;max-height:85vh;" +
    "border-radius:16px 16px 0 0}}" +
    "@media (prefers-reduced-motion:reduce){.p{animation:none}}";

  function styles(root) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      // Older browsers: a <style> element (needs style-src to allow it under a CSP).
      root.appendChild(el("style", {}, [CSS]));
    }
  }

  function mount() {
    var host = el("callback-widget", { "data-widget": key });
    var root = host.attachShadow({ mode: "open" });
    styles(root);
    var icon = el("svg", { viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" }, [
      el("path", { d: "M6.6 10.8a15 15 0 0 0 6.6 6.6l2.2-2.2c.3-.3.7-.4 1-.2 1.1.4 2.3.6 3.6.6.6 0 1 .4 1 1V20c0 .6-.4 1-1 1A17 17 0 0 1 3 4c0-.6.4-1 1-1h3.5c.6 0 1 .4 1 1 0 1.3.2 2.5.6 3.6.1.3 0 .7-.2 1z" })
    ]);
    var fab = el("button", {
      type: "button", "class": "fab", "aria-label": texts.launcher, title: texts.launcher,
      "aria-haspopup": "dialog", "aria-expanded": "false"
    }, [icon]);
    var wrap = el("div", { "class": "w" + (cfg.position === "left" ? " l" : ""), lang: cfg.language }, [fab]);
    wrap.style.setProperty("--a", cfg.colors.accent);
    wrap.style.setProperty("--t", cfg.colors.text);
    root.appendChild(wrap);
    d.body.appendChild(host);
    ui = { root: root, wrap: wrap, fab: fab };
    fab.addEventListener("click", function () {
      if (isOpen) close(); else open("button");
    });
    emit("shown", { key: key });
    arm();
    pending.forEach(function (args) { api.apply(null, args); });
    pending = [];
  }

  /* ---------- triggers ---------- */

  function arm() {
    var rules = cfg.triggers.rules;
    if (Date.now() < (visitor.snooze || 0) || visitor.offered) return;
    visitor.fired = visitor.fired || {};
    armed = true;
    var loaded = Date.now();
    var last = loaded;
    var upAt = 0, upFrom = 0, lastY = w.scrollY;
    var timed = [];
    var listen = function (target, type, fn) {
      target.addEventListener(type, fn, { passive: true, capture: true });
    };
    var coarse = w.matchMedia && w.matchMedia("(pointer: coarse)").matches;

    rules.forEach(function (rule, i) {
      var fire = function () { fired(i, rule); };
      var t = rule.type;
      if (visitor.fired[i]) return;
      if (t === "pages_viewed") {
        if (session.pages >= (rule.count || 1)) fire();
      } else if (t === "returning") {
        if (session.returning) fire();
      } else if (t === "url") {
        if (rule.pattern && location.href.indexOf(rule.pattern) >= 0) fire();
      } else if (t === "utm") {
        var utm = session.utm || {};
        if (["source", "medium", "campaign"].every(function (n) {
          return !rule[n] || utm[n] === rule[n];
        }) && (rule.source || rule.medium || rule.campaign)) fire();
      } else if (t === "product_pages") {
        var path = location.pathname;
        var match = rule.pattern ? path.indexOf(rule.pattern) >= 0 : matches(rule.selector);
        if (match && session.products.indexOf(path) < 0) session.products.push(path);
        save("sessionStorage", session);
        if (session.products.length >= (rule.count || 1)) fire();
      } else if (t === "compare") {
        listen(d, "click", function (event) {
          try {
            if (event.target.closest && event.target.closest(rule.selector || ".compare")) fire();
          } catch (e) { /* a bad selector from the admin */ }
        });
      } else if (t === "exit_intent") {
        listen(d, "mouseout", function (event) {
          if (!event.relatedTarget && event.clientY <= 0) fire();
        });
        if (coarse) {
          // Phones have no pointer to leave the page: a fast flick up, or switching away.
          listen(w, "scroll", function () {
            var y = w.scrollY, now = Date.now();
            if (y < lastY) {
              if (now - upAt > 500) { upAt = now; upFrom = lastY; }
              if (upFrom - y > w.innerHeight / 2) fire();
            }
            lastY = y;
          });
          listen(d, "visibilitychange", function () { if (d.hidden) fire(); });
        }
      } else {
        timed.push([i, rule]);
      }
    });
    if (!timed.length || !armed) return;
    listen(w, "scroll", function () { last = Date.now(); });
    ["mousemove", "keydown", "pointerdown", "touchstart"].forEach(function (type) {
      listen(d, type, function () { last = Date.now(); });
    });
    tick = setInterval(function () {
      var now = Date.now();
      timed = timed.filter(function (pair) { return !visitor.fired[pair[0]]; });
      if (!timed.length) clearInterval(tick); // nothing left to watch on this page
      timed.forEach(function (pair) {
        var rule = pair[1], t = rule.type, due = (rule.seconds || 0) * 1000;
        if ((t === "time_on_page" && now - loaded >= due) ||
            (t === "time_on_site" && now - session.start >= due) ||
            (t === "idle" && now - last >= due) ||
            (t === "scroll_depth" && w.scrollY > 0 && depth() >= (rule.percent || 50))) {
          fired(pair[0], rule);
        }
      });
    }, 1000);
  }

  function matches(selector) {
    try { return !!(selector && d.querySelector(selector)); } catch (e) { return false; }
  }

  function depth() {
    var page = d.documentElement.scrollHeight;
    return page ? (w.scrollY + w.innerHeight) / page * 100 : 0;
  }

  function fired(i, rule) {
    if (!armed || visitor.fired[i]) return;
    visitor.fired[i] = 1;
    var score = 0;
    cfg.triggers.rules.forEach(function (r, j) { if (visitor.fired[j]) score += r.score; });
    if (score >= cfg.triggers.threshold) {
      disarm();
      visitor.offered = 1;
      if (!isOpen) open("trigger", rule.type);
    }
    save("localStorage", visitor);
  }

  function disarm() {
    armed = false;
    clearInterval(tick);
  }

  /* ---------- the panel ---------- */

  function build() {
    var scheduled = !(cfg.open_now && cfg.agent_free) && cfg.slots.length;
    var countries = cfg.countries.map(function (c) {
      return el("option", { value: c.code }, [c.code + " " + c.dial]);
    });
    var slots = cfg.slots.map(function (iso) {
      return el("option", { value: iso }, [when(iso)]);
    });
    var x = el("button", { type: "button", "class": "x", "aria-label": texts.close }, ["\u00d7"]);
    var country = el("select", { "aria-label": texts.country }, countries);
    var phone = el("input", {
      id: "cb-phone", type: "tel", name: "tel", autocomplete: "tel", inputmode: "tel",
      maxlength: "32", "aria-describedby": "cb-error", "aria-invalid": "false"
    });
    var slot = el("select", { id: "cb-slot" }, slots);
    var trap = el("input", { name: "website", tabindex: "-1", autocomplete: "off" });
    var error = el("p", { id: "cb-error", "class": "e", role: "alert" });
    var go = el("button", { type: "submit", "class": "go" }, [scheduled ? texts.submit_later : texts.submit]);
    var fine = el("p", { "class": "f" }, [texts.consent + " "]);
    if (cfg.privacy_url) {
      fine.appendChild(el("a", { href: cfg.privacy_url, target: "_blank", rel: "noopener" }, [texts.privacy]));
    }
    var form = el("form", { novalidate: "" }, [
      el("label", { "for": "cb-phone" }, [texts.phone]),
      el("div", { "class": "r" }, [country, phone]),
      scheduled ? el("label", { "for": "cb-slot" }, [texts.slot]) : "",
      scheduled ? slot : "",
      el("div", { "class": "h", "aria-hidden": "true" }, [trap]),
      error, go, fine
    ]);
    var count = el("div", { "class": "n", "aria-hidden": "true" });
    var unit = el("div", {}, [texts.countdown]);
    var status = el("p", { "class": "s", role: "status", "aria-live": "polite", tabindex: "-1" });
    var again = el("button", { type: "button", "class": "ag" }, [texts.again]);
    var run = el("div", { "class": "u" }, [count, unit, status, again]);
    var lead = !cfg.open_now ? texts.lead_closed : scheduled ? texts.lead_busy : texts.lead;
    var panel = el("div", {
      "class": "p", role: "dialog", "aria-modal": "true", "aria-labelledby": "cb-title"
    }, [x, el("h2", { id: "cb-title" }, [texts.title]), el("p", {}, [lead]), form, run]);
    show(run, false);
    ui.wrap.appendChild(panel);

    var preset = presetCountry();
    if (preset) country.value = preset;
    Object.assign(ui, {
      panel: panel, x: x, form: form, phone: phone, country: country, slot: scheduled && slot,
      trap: trap, error: error, go: go, run: run, count: count, unit: unit, status: status,
      again: again
    });
    x.addEventListener("click", close);
    phone.addEventListener("input", function () {
      var bad = !typeful(phone.value);
      fail(bad ? "format" : "", true);
    });
    form.addEventListener("submit", submit);
    again.addEventListener("click", function () { view(false); phone.focus(); });
    panel.addEventListener("keydown", keys);
  }

  function presetCountry() {
    var codes = cfg.countries.map(function (c) { return c.code; });
    var lang = (d.documentElement.lang || navigator.language || "").toUpperCase();
    var region = (/-([A-Z]{2})$/.exec(lang) || [])[1] ||
      { ET: "EE", FI: "FI", PL: "PL", DE: "DE", LV: "LV", LT: "LT", SV: "SE" }[lang.slice(0, 2)];
    return codes.indexOf(region) >= 0 ? region : codes.indexOf(cfg.region) >= 0 ? cfg.region : codes[0];
  }

  function typeful(value) {
    return /^[+\d\s().\-]*$/.test(value) && value.replace(/\D/g, "").length <= 15;
  }

  function when(iso) {
    return new Intl.DateTimeFormat(cfg.language, {
      weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"
    }).format(new Date(iso));
  }

  // `wait`: the server's Retry-After in seconds, said as "in 2 minutes" in the page's language.
  function fail(code, quiet, wait) {
    var text = code ? texts["e_" + code] || texts.e_other : "";
    say(ui.error, text.replace(/ ?\{wait\}/, function () {
      var after = later(wait);
      return after && " " + after;
    }));
    // Only a refusal of the number itself marks the field; a limit or an outage is not its fault.
    ui.phone.setAttribute("aria-invalid", String(/phone|format|country|number|blocked/.test(code)));
    if (code && !quiet) emit("error", { code: code });
  }

  function later(seconds) {
    var s = Math.max(1, parseInt(seconds, 10) || 60);
    var unit = s < 60 ? 1 : s < 3600 ? 60 : 3600;
    try {
      return new Intl.RelativeTimeFormat(cfg.language).format(Math.ceil(s / unit),
        unit === 1 ? "second" : unit === 60 ? "minute" : "hour");
    } catch (e) { return ""; } // no Intl.RelativeTimeFormat: "Please try again." still reads
  }

  function view(running) {
    show(ui.form, !running);
    show(ui.run, running);
  }

  function open(source, trigger) {
    if (isOpen || !ui) return;
    if (!ui.panel) build();
    isOpen = true;
    openedAt = Date.now();
    show(ui.panel, true);
    ui.fab.setAttribute("aria-expanded", "true");
    // A trigger opens the panel beside what the visitor is doing: it never steals the focus.
    if (source !== "trigger") {
      returnFocus = source === "button" ? ui.fab : d.activeElement;
      var target = !ui.form.hidden ? ui.phone : !ui.again.hidden ? ui.again : ui.x;
      target.focus();
    }
    emit("open", trigger ? { source: source, trigger: trigger } : { source: source });
  }

  function close() {
    if (!isOpen) return;
    isOpen = false;
    show(ui.panel, false);
    ui.fab.setAttribute("aria-expanded", "false");
    disarm();
    // Closed means "not now": no trigger opens it again for snooze_days (the button still does).
    visitor.snooze = Date.now() + cfg.triggers.snooze_days * 864e5;
    visitor.fired = {};
    visitor.offered = 0;
    save("localStorage", visitor);
    emit("close", {});
    // Focus goes back only if it was inside the panel: a page's own close() keeps its focus.
    if (ui.root.activeElement) (returnFocus || ui.fab).focus();
    returnFocus = null;
  }

  function keys(event) {
    if (event.key === "Escape") return close();
    if (event.key !== "Tab") return;
    var focusable = [].filter.call(
      ui.panel.querySelectorAll("button,select,input:not([tabindex='-1']),a[href]"),
      function (node) { return node.getClientRects().length; }
    );
    var at = focusable.indexOf(ui.root.activeElement), end = focusable.length - 1;
    if (at < 0 || at === (event.shiftKey ? 0 : end)) {
      event.preventDefault();
      focusable[event.shiftKey ? end : 0].focus();
    }
  }

  /* ---------- submit and status ---------- */

  function submit(event) {
    event.preventDefault();
    var raw = ui.phone.value.trim();
    if (!typeful(raw)) return fail("format");
    if (raw.replace(/\D/g, "").length < 6) return fail("invalid_phone");
    fail("");
    if (ui.trap.value) return running(null, "queued"); // a bot filled the hidden field
    var body = {
      widget: key, phone: international(raw), language: cfg.language,
      page_url: location.href.slice(0, 2048), page_title: d.title.slice(0, 300),
      // The server refuses forms filled faster than a person can (too_fast; MIN_FILL_MS).
      elapsed_ms: Date.now() - openedAt
    };
    if (ui.slot) body.scheduled_for = ui.slot.value;
    if (ui.busy) return;
    // Not `disabled`: a disabled button drops the keyboard focus out of the panel.
    busy(true);
    fetch(base + "/api/v1/callbacks", {
      method: "POST", credentials: "omit",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(function (response) {
      // A proxy's or load balancer's error page is not JSON: the status code still tells.
      return response.json().catch(function () { return {}; }).then(function (result) {
        var s = response.status;
        if (!response.ok) {
          throw [(result.error || {}).code ||
            (s === 429 ? "rate_limited" : s === 503 ? "unavailable" : "other"),
            response.headers.get("Retry-After")];
        }
        emit("submitted", { id: result.id });
        running(result, result.status);
      });
    }).catch(function (refusal) {
      if (refusal && refusal.pop) fail(refusal[0], false, refusal[1]);
      else fail("network");
    }).then(function () { busy(false); });
  }

  function busy(on) {
    ui.busy = on;
    ui.go.setAttribute("aria-disabled", String(on));
  }

  function international(raw) {
    var c = cfg.countries.filter(function (x) { return x.code === ui.country.value; })[0];
    // The server reads national numbers in the widget's region; others get their dial code.
    if (/^(\+|00)/.test(raw) || !c || c.code === cfg.region) return raw;
    var national = raw.replace(/^[\s(]+/, "");
    if (c.trunk && national.indexOf(c.trunk) === 0) national = national.slice(c.trunk.length);
    return c.dial + " " + national;
  }

  function running(result, status) {
    var inside = ui.root.activeElement;
    view(true);
    // The submit button just disappeared: keep the focus in the panel, on the news.
    if (inside) ui.status.focus();
    show(ui.again, false);
    var left = COUNTDOWN, last;
    say(ui.count, left);
    clearInterval(ui.timer);
    ui.timer = setInterval(function () {
      left = Math.max(0, left - 1);
      say(ui.count, left);
      if (!left) {
        clearInterval(ui.timer);
        if (last !== "connected") say(ui.status, texts.slow);
      }
    }, 1000);
    var update = function (state) {
      var s = state.status;
      if (s === last) return;
      last = s;
      emit("status", { id: result && result.id, status: s });
      var text = texts["s_" + s] || "";
      // "Anna is on the line, calling you now": the server sends the first name only.
      if (s === "agent_connected" && state.agent_name) {
        text = texts.s_agent_named.replace("{name}", state.agent_name);
      }
      if (s === "scheduled") {
        // The server's time wins: a request while closed is moved to the next opening.
        text = text.replace("{time}", when((result && result.scheduled_for) || (ui.slot && ui.slot.value) || Date.now()));
      }
      say(ui.status, text);
      if (s === "connected" || FINAL[s]) {
        clearInterval(ui.timer);
        show(ui.count, s === "connected");
        show(ui.unit, false);
        if (s === "connected") say(ui.count, "\u2713");
      }
      if (s === "failed" || s === "canceled") show(ui.again, true);
    };
    show(ui.count, status !== "scheduled");
    show(ui.unit, status !== "scheduled");
    update({ status: status });
    if (!result || FINAL[status]) return;
    var polls = 0;
    var poll = function () {
      fetch(new URL(result.status_url, base).href, { credentials: "omit" })
        .then(function (r) { return r.json(); })
        .then(function (state) { if (state.status) update(state); })
        .catch(function () { /* a lost poll: the next one tries again */ })
        .then(function () {
          polls++;
          // Every second while the phone is about to ring, then calmer, then stop.
          if (!FINAL[last] && polls < 400) {
            setTimeout(poll, last === "connected" ? 5000 : polls < 60 ? 1000 : 3000);
          }
        });
    };
    setTimeout(poll, 500);
  }

  start();
})(window, document);
