/* Callback widget: served at /widget.js. The behaviour-triggered widget arrives
 * with issue #4; until then this file only reserves the global so embedding it
 * early never breaks a page. */
(function () {
  "use strict";
  if (window.Callback && window.Callback.loaded) return;
  var queued = (window.Callback && window.Callback.q) || [];
  function Callback() { queued.push(arguments); }
  Callback.q = queued;
  Callback.loaded = true;
  window.Callback = Callback;
})();
