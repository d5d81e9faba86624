// Shared by every benchmark page (plain JS, loaded before anything else).
// - stamp(): epoch milliseconds with sub-millisecond precision, comparable across tabs.
// - benchErrors: console.error output and uncaught errors, read by the driver;
//   benchConsole: the same and console.warn, as [level, text] (drained by the driver).
// - benchCall(name, argsJson, done): calls window.benchFns[name](...args) (sync or async)
//   and hands `done` a JSON string {"ok": value} or {"error": text}.
// - pagehide writes its time to localStorage "bench:pagehide" (failover figures).
// - benchHeartbeat.start()/stop(): the main thread's longest stall in between (workers).
(function () {
  "use strict";
  window.stamp = function () { return performance.timeOrigin + performance.now(); };
  window.benchErrors = [];
  // [level, text] of every console.error/console.warn and uncaught error: the driver
  // drains it in engines whose driver has no console log (Firefox, WebKit).
  window.benchConsole = [];
  ["error", "warn"].forEach(function (level) {
    var original = console[level].bind(console);
    console[level] = function () {
      try {
        var text = Array.prototype.map.call(arguments, String).join(" ");
        if (level === "error") window.benchErrors.push(text);
        window.benchConsole.push([level, text]);
      } catch (e) {}
      original.apply(null, arguments);
    };
  });
  function uncaught(text) {
    window.benchErrors.push(text);
    window.benchConsole.push(["error", text]);
  }
  window.addEventListener("error", function (ev) { uncaught("window error: " + ev.message); });
  window.addEventListener("unhandledrejection", function (ev) {
    uncaught("unhandled rejection: " + String(ev.reason));
  });
  window.addEventListener("pagehide", function () {
    try { localStorage.setItem("bench:pagehide", String(stamp())); } catch (e) {}
  });
  // benchHeartbeat: a 16 ms interval timer noting its longest gap, i.e. the main thread's
  // longest stall while it runs (the worker figure); stop() counts the gap up to now too.
  window.benchHeartbeat = (function () {
    var timer = null, last = 0, maxGap = 0, ticks = 0;
    function beat() {
      var now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks += 1;
    }
    return {
      start: function () {
        clearInterval(timer);
        last = performance.now(); maxGap = 0; ticks = 0;
        timer = setInterval(beat, 16);
      },
      stop: function () {
        clearInterval(timer);
        timer = null;
        beat();
        return {maxGap: maxGap, ticks: ticks - 1};
      }
    };
  })();
  window.benchFns = window.benchFns || {};
  window.benchCall = function (name, argsJson, done) {
    var fn = window.benchFns[name];
    if (!fn) { done(JSON.stringify({error: "no bench function " + name})); return; }
    Promise.resolve().then(function () { return fn.apply(null, JSON.parse(argsJson)); }).then(
      function (value) { done(JSON.stringify({ok: value === undefined ? null : value})); },
      function (err) { done(JSON.stringify({error: String(err && err.stack || err)})); });
  };

  // Counting IndexedDB traffic (only with ?count=1): transactions by mode and requests by
  // method, BroadcastChannel posts. Used for the "where the time goes" evidence.
  if (new URLSearchParams(location.search).get("count") === "1") {
    var counts = window.benchCounts = {};
    var bump = function (k) { counts[k] = (counts[k] || 0) + 1; };
    var origTx = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (stores, mode) {
      if (this.name.indexOf("brython_jobs.") === 0) bump("tx:" + (mode || "readonly"));
      return origTx.apply(this, arguments);
    };
    var wrap = function (proto, label, names) {
      names.forEach(function (m) {
        var orig = proto[m];
        if (!orig) return;
        proto[m] = function () { bump(label + "." + m); return orig.apply(this, arguments); };
      });
    };
    var reads = ["get", "getAll", "getAllKeys", "count", "openCursor", "openKeyCursor"];
    wrap(IDBObjectStore.prototype, "store", reads.concat(["put", "add", "delete"]));
    wrap(IDBIndex.prototype, "index", reads);
    wrap(IDBCursor.prototype, "cursor", ["continue", "advance"]);
    wrap(BroadcastChannel.prototype, "bc", ["postMessage"]);
  }
})();
