"""What a web worker of the pool loads and runs, and how its failures read (pure: no
browser imports; the adapter that starts workers is workers.py).

Split from workers.py on purpose: everything here decides something (which of the
page's scripts a worker loads and in which order, its import path, its bootstrap code,
which exception a worker-side error becomes), so it is plain Python tested under CPython
(tests/unit/test_worker_boot.py); workers.py only reads the page, fetches the script,
makes the Blob and the Worker and passes messages.
"""

from .errors import WorkerError

PROTOCOL = 1          # the ``bj`` field of every message; as in worker.py
START_TIMEOUT = 30.0  # seconds a worker may take to load and run its script's top level

CORE_SCRIPTS = ("brython.js", "brython.min.js")
LIBRARY_SCRIPTS = ("brython_stdlib.js", "brython_modules.js")
OPTIONS = ("debug", "cache", "indexeddb", "static_stdlib_import", "python_extension")

# The worker's first code: load Brython and the page's bundles, then run the Python
# script the way Brython runs a page script, with two hooks: the script's "load" event
# (its top level ran) calls worker.py's ready function, and an uncaught Python error is
# reported to the page as a crash. Values between @...@ are JSON, filled in by bootstrap().
BOOTSTRAP = """\
self.__BRYTHON__ = {brython_path: @PATH@};
importScripts.apply(self, @SCRIPTS@);
self.brythonJobsLoaded = performance.now();
(function () {
  var $B = __BRYTHON__;
  function report(message) {
    self.postMessage({bj: @PROTOCOL@, type: "crash", message: String(message)});
  }
  $B.script_domain = @DOMAIN@;
  var script = new $B.fakeScript();
  script.dispatchEvent = function () {
    if (typeof self.brythonJobsReady === "function") {
      self.brythonJobsReady();
    } else {
      report("the script ran but does not import brython_jobs.worker");
    }
  };
  var handle_error = $B.handle_error;
  $B.handle_error = function (err) {
    if (err && !err.$handled) {
      var message = err;
      try {
        var lines = $B.error_trace($B.exception(err)).trim().split("\\n");
        message = lines[lines.length - 1];
      } catch (e) {}
      // The traceback goes to the console BEFORE the crash report: the page terminates
      // the worker on that report, which drops whatever the worker posts after it (a
      // page that forwards its workers' console by postMessage would lose it).
      try { $B.show_error(err); } catch (e) {}
      err.$handled = true;
      report(message);
      throw err;
    }
    return handle_error(err);
  };
  brython(@OPTIONS@);
  // Brython sets the browser package's __path__ to a string, so in a worker (no
  // browser.window) `from browser import window` requests a garbage URL and fails with a
  // DOMException instead of ImportError. Its submodules are found by name anyway.
  $B.module_setattr($B.imported.browser, "__path__", $B.$list([]));
  $B.run_script(script, @SOURCE@, "__main__", @URL@, !$B.idb_cx);
})();
"""


def bootstrap(values, dumps):
    """BOOTSTRAP with each ``@NAME@`` replaced by ``dumps(values[NAME])`` (``dumps``: a
    JSON encoder; the page's is ``javascript.JSON.stringify``)."""
    parts = BOOTSTRAP.split("@")
    out = []
    for i in range(len(parts)):
        out.append(dumps(values[parts[i]]) if i % 2 else parts[i])
    return "".join(out)


def file_name(url):
    """The last path segment of a URL, without query or fragment."""
    return url.split("#")[0].split("?")[0].rsplit("/", 1)[-1]


def worker_scripts(page_scripts, brython_path, extra=()):
    """What a worker loads with ``importScripts``, in order: the page's Brython core
    (one), then its libraries and every ``*.brython.js`` package bundle it loaded with a
    script tag (so script-tag loading works in workers too), then ``extra``.
    ``page_scripts``: the ``src`` of the page's script tags, in document order. A page
    that loaded no Brython core by a tag gets the files at ``brython_path``."""
    core = []
    rest = []
    for src in page_scripts:
        name = file_name(src)
        if name in CORE_SCRIPTS:
            core.append(src)
        elif name in LIBRARY_SCRIPTS or name.endswith(".brython.js"):
            rest.append(src)
    if not core:
        core = [brython_path + "brython.js"]
        if not rest:
            rest = [brython_path + "brython_stdlib.js"]
    return core[:1] + rest + list(extra)


def worker_pythonpath(pythonpath, origin, page_dir, script_dir, join):
    """The worker's import path: the page's ``pythonpath`` entries made absolute (a
    worker has no page to be relative to), then the worker script's folder and the
    page's folder unless listed. ``join(entry, base)`` resolves a relative URL."""
    path = []
    for entry in pythonpath or []:
        if entry == ".":
            entry = page_dir
        elif entry.startswith("/"):
            entry = origin + entry
        elif not (entry.startswith("http://") or entry.startswith("https://")):
            entry = join(entry, page_dir)
        path.append(entry)
    for entry in (script_dir, page_dir):
        if entry not in path:
            path.append(entry)
    return path


def is_webkit(user_agent):
    """True in WebKit browsers (Safari, every iOS browser, WebKitGTK): their user agent
    names AppleWebKit without a Chromium engine."""
    return "AppleWebKit" in user_agent and not any(
        name in user_agent for name in ("Chrome/", "Chromium/", "Edg/", "OPR/"))


def worker_options(page_options, pythonpath, webkit):
    """The ``brython()`` options of a worker: the page's (``page_options``: the values of
    OPTIONS the page set), its import path, and no compile cache in WebKit."""
    options = dict(page_options)
    options["pythonpath"] = pythonpath
    if webkit:
        # WebKit (Safari) does not end the IndexedDB transactions of a terminated
        # worker. A worker stopped mid-job (timeout, cancel) while Brython stored a
        # compiled module in its cache database ("brython-cache") keeps that
        # readwrite transaction open for good, and every later Brython page or
        # worker of the origin then hangs at start-up waiting for the cache. Workers
        # there run without Brython's cache (they compile what they import anew).
        options["indexeddb"] = False
    return options


_remote_types = {}


def remote_error(kind, message, where=None):
    """A ``WorkerError`` whose type is named ``kind`` (the worker-side exception type),
    so that a job's error reads ``ValueError: bad input``; ``remote_where`` lists the
    worker-side frames as ``file:line``."""
    if type(kind) is not str or not kind.isidentifier():
        kind = "WorkerError"
    cls = _remote_types.get(kind)
    if cls is None:
        cls = WorkerError if kind == "WorkerError" else type(kind, (WorkerError,), {})
        _remote_types[kind] = cls
    exc = cls(message if type(message) is str else str(message))
    exc.remote_type = kind
    exc.remote_where = where or []
    return exc
