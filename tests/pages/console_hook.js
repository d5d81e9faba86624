// Loaded before Brython on every test page (and, through the Worker wrapper below, first
// in every web worker the page starts). Records the console where the harness can read it
// in every engine: only chromedriver gives Selenium the browser console (get_log);
// geckodriver and WebKitWebDriver give nothing.
//
//   window.bjConsole  [{level, message, source}], level: log/info/warn/error/debug, or
//                     "uncaught" (an error event) / "rejection" (unhandledrejection);
//                     source: "page" or "worker <script>". The harness drains it
//                     (splice) and fails the test on any Python traceback.
//   window.bjErrors   the console.error and uncaught lines alone, as strings (the start-up
//                     check shows the last of them when a page never gets ready).
//   localStorage "bjConsole:afterhide"  error lines of pages after their pagehide.
//
// Brython writes sys.stderr, so every Python traceback, through console.error.
(function () {
  var LEVELS = ["log", "info", "warn", "error", "debug"];

  function text(args) {
    return Array.prototype.map.call(args, function (value) {
      if (value instanceof Error) return String(value) + (value.stack ? "\n" + value.stack : "");
      if (value !== null && typeof value === "object") {
        try { return JSON.stringify(value); } catch (e) { return String(value); }
      }
      return String(value);
    }).join(" ");
  }

  function describe(error, fallback) {
    if (error instanceof Error) return String(error) + (error.stack ? "\n" + error.stack : "");
    if (error !== undefined && error !== null) return String(error);
    return fallback;
  }

  // Calls record(level, message) for every console call and uncaught error of `scope`.
  function hook(scope, record) {
    LEVELS.forEach(function (level) {
      var original = scope.console[level];
      scope.console[level] = function () {
        try { record(level, text(arguments)); } catch (e) {}
        return original.apply(scope.console, arguments);
      };
    });
    scope.addEventListener("error", function (ev) {
      record("uncaught", describe(ev.error, String(ev.message)) +
             (ev.filename ? " (" + ev.filename + ":" + ev.lineno + ")" : ""));
    });
    scope.addEventListener("unhandledrejection", function (ev) {
      record("rejection", "unhandled rejection: " + describe(ev.reason, "(no reason)"));
    });
  }

  if (typeof window === "undefined") {
    // In a worker: send every line to the page, which files it in its bjConsole. A plain
    // message (no "bj" field) that the page's Worker wrapper takes out before
    // brython_jobs' own listener would see it.
    hook(self, function (level, message) {
      self.postMessage({bjConsole: {level: level, message: message}});
    });
    return;
  }

  window.bjConsole = [];
  window.bjErrors = [];
  window.bjEvents = [];
  // After pagehide nobody will read this page's bjConsole any more, yet a closing or
  // reloading page may still run code (a Web Lock callback, a rejected promise). Its
  // error lines then go to localStorage (AFTER_HIDE, a JSON array shared by the origin's
  // pages), which the harness drains too.
  var AFTER_HIDE = "bjConsole:afterhide";
  var hidden = false;
  window.addEventListener("pagehide", function () { hidden = true; });
  window.addEventListener("pageshow", function () { hidden = false; });
  function record(level, message, source) {
    var error = level === "error" || level === "uncaught" || level === "rejection";
    var entry = {level: level, message: message, source: source || "page"};
    window.bjConsole.push(entry);
    if (error) window.bjErrors.push(message);
    if (hidden && (error || message.indexOf("Traceback") >= 0)) {
      try {
        entry.source = "hidden " + location.pathname + " " + entry.source;
        entry.message = message.slice(0, 4000);
        var list = JSON.parse(localStorage.getItem(AFTER_HIDE) || "[]");
        list.push(entry);
        localStorage.setItem(AFTER_HIDE, JSON.stringify(list.slice(-50)));
      } catch (e) {}
    }
  }
  hook(window, function (level, message) { record(level, message); });

  // Every classic worker the page starts loads this file first: its script becomes
  // importScripts(this file) + importScripts(the real script), in a small blob.
  var hookUrl = document.currentScript && document.currentScript.src;
  var NativeWorker = window.Worker;
  if (!hookUrl || !NativeWorker) return;
  window.Worker = class extends NativeWorker {
    constructor(url, options) {
      var isModule = options && options.type === "module";  // no importScripts there
      var real = String(new URL(url, location.href));
      var boot = isModule ? real : URL.createObjectURL(new Blob(
        ["importScripts(" + JSON.stringify(hookUrl) + ");\nimportScripts(" +
         JSON.stringify(real) + ");\n"], {type: "text/javascript"}));
      super(boot, options);
      var source = "worker " + ((options && options.name) || real.slice(0, 60));
      this.addEventListener("message", function (ev) {
        var data = ev.data;
        if (data && typeof data === "object" && data.bjConsole) {
          ev.stopImmediatePropagation();
          record(data.bjConsole.level, data.bjConsole.message, source);
        }
      });
    }
  };
})();
