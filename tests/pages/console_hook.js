// Installed before Brython on every test page: collects console errors (Brython writes
// sys.stderr, so every Python traceback, through console.error) and uncaught errors in
// window.bjErrors, where the harness reads them to fail the test.
window.bjErrors = [];
window.bjEvents = [];
(function () {
  var original = console.error.bind(console);
  console.error = function () {
    try { window.bjErrors.push(Array.prototype.map.call(arguments, String).join(" ")); } catch (e) {}
    original.apply(null, arguments);
  };
  window.addEventListener("error", function (ev) { window.bjErrors.push("window error: " + ev.message); });
})();
