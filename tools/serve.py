"""A static file server for the demo and the browser tests, on 127.0.0.1 only.

It serves the repository root, so a page in ``www/`` or ``tests/pages/`` reaches the
package at ``/brython_jobs/`` and the Brython runtime at ``/www/brython/``.

Why not ``python -m http.server``: it binds every interface by default, lets the browser
cache the ``.py`` files that Brython fetches (so an edited module is not picked up on
reload), guesses MIME types from the machine's ``/etc/mime.types`` (``.py`` varies by
system) and logs a line per request, which buries test output.

Run log (for the fault tests and tools/soak.py): ``POST /__runlog/<name>`` appends the
request body (one line of text) to the in-memory log ``<name>`` with the server's time;
``GET /__runlog/<name>[?since=N]`` returns ``[{"at": epoch_seconds, "line": text}, ...]``
(from the N-th entry on). It is
append-only and answers 127.0.0.1 only: a place outside the browser where pages count
job runs, so the count survives a renderer crash and a killed browser.

HTTP cache: by default nothing may be kept (``no-store``) but the Brython runtime
(``no-cache``, see ``Handler.end_headers``). ``cache=True`` (``--cache``) lets the browser
keep every file and revalidate it (``no-cache``: a reload gets 304s), as an ordinary static
host would: the benchmark's warm page loads need that.

CLI: ``python tools/serve.py [--port 8000] [--root DIR] [--verbose] [--cache]``; ``--port
0`` picks a free port. From Python: ``start_server(root, port=0, cache=False) -> (server,
thread, port)``; stop it with ``server.shutdown(); server.server_close()``.
"""

import argparse
import http.server
import json
import os
import sys
import threading
import time

HOST = "127.0.0.1"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_PATH = "/www/index.html"
RUNTIME_PATH = "/www/brython/"

# Fixed here rather than taken from the system tables, which differ between machines.
MIME_TYPES = {
    ".py": "text/x-python",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".html": "text/html",
    ".json": "application/json",
    ".css": "text/css",
    ".txt": "text/plain",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    "": "application/octet-stream",
}
TEXT_TYPES = {"text/x-python", "text/javascript", "text/html", "application/json",
              "text/css", "text/plain", "image/svg+xml"}


RUNLOG_PREFIX = "/__runlog/"
RUNLOG = {}  # name -> [{"at", "line"}]; shared by every server of this process
RUNLOG_LOCK = threading.Lock()
RUNLOG_MAX_BODY = 65536


class RunLogMixin:
    """The append-only run log (see the module docstring)."""

    def _runlog_name(self):
        name = self.path.split("?", 1)[0][len(RUNLOG_PREFIX):]
        if self.client_address[0] != HOST or not name or "/" in name:
            self.send_error(403 if self.client_address[0] != HOST else 404)
            return None
        return name

    def _runlog_reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        if not self.path.startswith(RUNLOG_PREFIX):
            self.send_error(405)
            return
        name = self._runlog_name()
        if name is None:
            return
        size = int(self.headers.get("Content-Length") or 0)
        if size > RUNLOG_MAX_BODY:
            self.send_error(413)
            return
        line = self.rfile.read(size).decode("utf-8", "replace")
        with RUNLOG_LOCK:
            entries = RUNLOG.setdefault(name, [])
            entries.append({"at": time.time(), "line": line})
            count = len(entries)
        self._runlog_reply({"n": count})

    def runlog_get(self):
        name = self._runlog_name()
        if name is not None:
            query = self.path.partition("?")[2]
            since = int(query[6:]) if query.startswith("since=") and query[6:].isdigit() \
                else 0
            with RUNLOG_LOCK:
                entries = RUNLOG.get(name, [])[since:]
            self._runlog_reply(entries)


class Handler(RunLogMixin, http.server.SimpleHTTPRequestHandler):
    # Extend the stdlib table with ours so unknown extensions still get a sane guess.
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    verbose = False
    # True: every file may be kept and revalidated (see the module docstring).
    cache = False

    def do_GET(self):
        if self.path.startswith(RUNLOG_PREFIX):
            self.runlog_get()
        else:
            super().do_GET()

    def guess_type(self, path):
        kind = super().guess_type(path)
        # Text files are UTF-8 in this project; saying so keeps non-ASCII intact.
        if kind in TEXT_TYPES:
            kind += "; charset=utf-8"
        return kind

    def end_headers(self):
        # Tests and the demo must always see the current files: no HTTP cache at all, but
        # for the Brython runtime in www/brython/ (6.5 MB, rewritten only by
        # tools/build.py). The browser may keep that if it asks first ("no-cache": a 304
        # while the file's mtime is unchanged), which spares every test page downloading
        # and compiling it again: in Firefox and WebKit that is most of a page's start.
        # With ``cache`` every file is treated so (the benchmark's warm page loads).
        if self.cache or self.path.startswith(RUNTIME_PATH):
            self.send_header("Cache-Control", "no-cache")
        else:
            self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):
        if self.verbose:
            super().log_message(format, *args)

    def log_error(self, format, *args):
        # Brython's imports probe name.py before name/__init__.py, so 404s are routine and
        # only shown with --verbose; any other error (500, bad request) always is.
        # (Base class's log_message: ours would drop the line when not verbose.)
        if self.verbose or not (args and args[0] == 404):
            http.server.BaseHTTPRequestHandler.log_message(self, format, *args)


class Server(http.server.ThreadingHTTPServer):
    # Threads die with the process: a test run must never hang on a stuck connection.
    # (HTTPServer already sets allow_reuse_address, so a restart right after a stop works.)
    daemon_threads = True
    # A page fires many module requests at once (several tabs even more); the default
    # listen backlog of 5 makes the kernel drop SYNs, and the browser retries after 1 s.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A browser tab closed mid-download resets the connection; that is not news.
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def _handler_class(verbose, root, cache=False):
    """A Handler bound to one root folder, verbosity and cache policy (a subclass rather
    than functools.partial, so that ``verbose`` and ``cache`` stay plain class
    attributes)."""
    class BoundHandler(Handler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=root, **kwargs)
    BoundHandler.verbose = verbose
    BoundHandler.cache = cache
    return BoundHandler


def start_server(root=ROOT, port=0, verbose=False, cache=False):
    """Serve ``root`` on 127.0.0.1 from a daemon thread. Returns ``(server, thread, port)``;
    ``port`` is the real one when 0 was asked for. ``cache=True``: the browser may keep
    every file and revalidate it (the module docstring says why)."""
    server = Server((HOST, port), _handler_class(verbose, os.path.abspath(root), cache))
    thread = threading.Thread(target=server.serve_forever, name="static-server",
                              kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    return server, thread, server.server_address[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve the repository on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--root", default=ROOT, help="folder to serve (the repo root)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument("--cache", action="store_true",
                        help="let the browser keep every file and revalidate it (no-cache)")
    args = parser.parse_args(argv)
    server = Server((HOST, args.port), _handler_class(args.verbose, os.path.abspath(args.root),
                                                      args.cache))
    port = server.server_address[1]
    print(f"Serving brython_jobs demo at http://{HOST}:{port}{DEMO_PATH}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
