"""The pieces a run stands on, all reused: the bundle from tools/build.py, the static
server of tools/serve.py and browsers started by tools/browsers.py (``Browser`` is the
bench's view of one: tabs, calls into the bench pages, their console)."""

import json
import os
import shutil
import tempfile
import time

from .core import ROOT, BenchError, browsers, build, run_id, serve


def bring_bundle_up_to_date():
    """The Brython runtime and the script-tag bundle, as tools/build.py makes them (each
    step a no-op when up to date). Returns (bundle path, where it came from), or (None,
    why there is none)."""
    try:
        build.install_runtime()
        rebuilt = build.build_bundle()
    except (build.BuildError, OSError) as exc:
        return None, f"tools/build.py failed: {exc}"
    rel = os.path.relpath(build.BUNDLE, ROOT)
    return build.BUNDLE, f"{rel} ({'rebuilt now' if rebuilt else 'up to date'}, tools/build.py)"


def start_server(http_cache):
    """tools/serve.py on the repository root at a free port. ``http_cache``: the browser may
    keep every file and revalidate it, as an ordinary static host allows; without it only
    the Brython runtime may be kept (serve.py's default, the tests'), so a "warm" page load
    downloads the package's modules again. Returns (server, base URL)."""
    server, _thread, port = serve.start_server(ROOT, 0, cache=http_cache)
    return server, f"http://127.0.0.1:{port}"


def stop_server(server):
    server.shutdown()
    server.server_close()


class Browser:
    """One browser of ``engine`` with a fresh temporary profile."""

    # Console output of every browser of the engine's run: errors (a Python traceback, a
    # failed callback) and the package's warnings. The run empties them per engine.
    console_errors = []
    console_warnings = []

    def __init__(self, base_url, engine="chromium"):
        self.base_url = base_url
        self.engine = engine
        self.profile = tempfile.mkdtemp(prefix=f"bench-{engine}-")
        try:
            self.session = browsers.start(engine, self.profile, script_timeout=900,
                                          page_load_timeout=120)
        except Exception:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.driver = self.session.driver
        self.has_cdp = self.session.cdp

    @property
    def version(self):
        return self.session.version

    @property
    def label(self):
        return self.session.label

    def quit(self):
        try:
            self.collect_console()
            self.session.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def collect_console(self):
        """Move the console's errors and package warnings into the class lists: from
        chromedriver's log in Chromium, else from every open page's ``benchConsole``
        (tools/bench/common.js), which only lives as long as the page."""
        try:
            if self.session.console_log:
                for entry in self.driver.get_log("browser"):
                    message = entry.get("message", "")
                    # 404s are expected: Brython probes name.py before name/__init__.py.
                    if entry.get("level") == "SEVERE" and "Failed to load resource" \
                            not in message:
                        self.console_errors.append(message[:400])
                    elif entry.get("level") == "WARNING" and "brython_jobs:" in message:
                        self.console_warnings.append(message[:400])
                return
            current = self.driver.current_window_handle
            for handle in self.driver.window_handles:
                self.driver.switch_to.window(handle)
                lines = self.driver.execute_script(
                    "return (window.benchConsole && window.benchConsole.splice(0)) || []")
                for level, message in lines:
                    if level == "error":
                        self.console_errors.append(message[:400])
                    elif level == "warn" and "brython_jobs:" in message:
                        self.console_warnings.append(message[:400])
            self.driver.switch_to.window(current)
        except Exception:
            pass

    # tabs
    def url(self, path, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"{self.base_url}/{path}" + (f"?{query}" if query else "")

    def load(self, path, ready=True, **params):
        """Navigate the current tab to ``path`` and (``ready``) wait for the page."""
        self.driver.get(self.url(path, **params))
        if ready:
            self.wait_ready()

    def open_tab(self, path, ready=True, **params):
        """Open a new tab on ``path`` and wait until its page is ready; returns the handle."""
        # A window of its own where background tabs are throttled (tools/browsers.py).
        self.driver.switch_to.new_window(self.session.foreground)
        self.load(path, ready, **params)
        return self.driver.current_window_handle

    def only_tab(self):
        """Close every tab but one and leave that one blank."""
        self.collect_console()
        handles = self.driver.window_handles
        for handle in handles[1:]:
            self.driver.switch_to.window(handle)
            self.driver.close()
        self.driver.switch_to.window(handles[0])
        self.driver.get("about:blank")

    def queue_tab(self, prefix, page="tools/bench/jobs.html", **params):
        """The only tab, on a bench page of a new queue ``prefix-<id>``, once it leads."""
        self.only_tab()
        self.load(page, q=f"{prefix}-{run_id()}", **params)
        self.wait_leader()
        return self.driver.current_window_handle

    def switch(self, handle):
        self.driver.switch_to.window(handle)

    def close(self, handle, keep):
        self.driver.switch_to.window(handle)
        self.collect_console()
        self.driver.close()
        self.driver.switch_to.window(keep)

    def wait_ready(self, timeout=90.0, flag="benchReady"):
        deadline = time.time() + timeout
        while True:
            ready, fatal, errors = self.driver.execute_script(
                f"return [window.{flag} || null, window.benchFatal || null,"
                " window.benchErrors || []]")
            if fatal:
                raise BenchError(f"page failed: {fatal}; console: {errors[:3]}")
            if ready:
                return ready
            if time.time() > deadline:
                self.collect_console()
                raise BenchError(f"page not ready after {timeout}s: {self.driver.current_url};"
                                 f" console: {errors[:3] or self.console_errors[-3:]}")
            time.sleep(0.02)

    # calls into the page
    def _call(self, entry, name, args):
        raw = self.driver.execute_async_script(
            f"var done = arguments[arguments.length - 1];"
            f" window.{entry}(arguments[0], arguments[1], done);", name, json.dumps(args))
        out = json.loads(raw)
        if "error" in out:
            self.collect_console()
            raise BenchError(f"{name}{tuple(args)}: {out['error']}")
        return out["ok"]

    def js(self, name, *args):
        """A plain-JS bench function (baseline.js)."""
        return self._call("benchCall", name, list(args))

    def py(self, name, *args):
        """A Python bench function of jobs_page.py."""
        return self._call("pyCall", name, list(args))

    def storage(self, key):
        return self.driver.execute_script("return localStorage.getItem(arguments[0]);", key)

    def wait_leader(self, want=True, timeout=20.0):
        deadline = time.time() + timeout
        while True:
            state = self.py("state")
            if state["is_leader"] == want and state["started"]:
                return state
            if time.time() > deadline:
                raise BenchError(f"tab did not become {'leader' if want else 'follower'}")
            time.sleep(0.02)

    def cdp(self, cmd, params=None):
        if not self.has_cdp:
            raise BenchError(f"{cmd} needs Chromium's DevTools protocol")
        return self.driver.execute_cdp_cmd(cmd, params or {})
