"""Reusable pieces of the Selenium harness (the fixtures live in conftest.py).

Tests import what they need from here::

    from harness import PageError, wait_for

Protocol between the harness and a test page (tests/pages/tab.html, smoke.html):

* the page sets ``window.bjReady = true`` once it can take calls, or ``window.bjError`` to
  a message when its start-up failed;
* ``bjCall(method, args_json, kwargs_json, done)`` runs ``method`` and calls ``done`` with
  a JSON string ``{"ok": value}`` or ``{"error": {"type": ..., "message": ...}}``;
* ``window.bjEvents`` is an array of JSON strings ``{"event", "data", "at"}``;
* tests/pages/console_hook.js, loaded before Brython, records the console of the page and
  of its workers in ``window.bjConsole`` (``{level, message, source}``) and the error
  lines alone in ``window.bjErrors`` (Brython writes tracebacks to ``sys.stderr``, which
  is ``console.error``). The harness drains it in every engine: only Chromium also gives
  Selenium its console (``get_log``).
"""

import importlib.util
import json
import os
import re
import time
import urllib.parse

import pytest
from selenium.common.exceptions import NoSuchWindowException, WebDriverException

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READY_TIMEOUT = 30.0
SCRIPT_TIMEOUT = 60.0
DEFAULT_PAGE = "/tests/pages/tab.html"
CONSOLE_HOOK = os.path.join(ROOT, "tests", "pages", "console_hook.js")
# Console levels of the page hook (console_hook.js) that count as errors.
ERROR_LEVELS = ("error", "uncaught", "rejection")


class PageError(Exception):
    """A Python exception raised in the page by a ``Tab.call``."""

    def __init__(self, type, message):
        super().__init__(f"{type}: {message}")
        self.type = type
        self.message = message


def wait_for(predicate, timeout=10, interval=0.05, message=None):
    """Poll ``predicate()`` until it returns something truthy and return that value.

    The only way tests wait: a fixed sleep is either too short on a slow machine or
    wastes time on a fast one. Raises AssertionError with ``message`` (a string, or a
    callable producing one, for messages that show the last state) on timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(
                f"timed out after {timeout} s: {text or getattr(predicate, '__name__', predicate)}"
                f" (last value: {value!r})")
        time.sleep(interval)


def _load_tool(name):
    """tools/<name>.py as a module (tools/ is a folder of scripts, not a package)."""
    path = os.path.join(ROOT, "tools", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"bj_tools_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_serve_module():
    return _load_tool("serve")


browsers = _load_tool("browsers")  # starts each engine (tools/browsers.py)
ENGINES = browsers.ENGINES


def start_browser(engine, workdir):
    """One browser of ``engine`` (a ``browsers.Session``: ``.driver``, ``.engine``,
    ``.cdp``, ``.console_log``, ``.foreground``, ``.label``)."""
    return browsers.start(engine, str(workdir), script_timeout=SCRIPT_TIMEOUT,
                          page_load_timeout=READY_TIMEOUT)


def sanitize(name, limit=40):
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")[:limit] or "test"


def page_url(base, path_or_url, params):
    """``base + path`` with ``params`` added to its query string. Dicts and lists are
    JSON-encoded, booleans become 1/0 (what the pages test for), None is left out."""
    url = path_or_url if re.match(r"https?://", path_or_url) else base + path_or_url
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, (dict, list, tuple)):
            value = json.dumps(value)
        query.append((key, str(value)))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def is_fatal(entry):
    """Which chromedriver log lines fail a test: any Python traceback, and any SEVERE entry
    that names an error (a failed resource load, e.g. Brython probing ``name.py`` before
    ``name/__init__.py``, is SEVERE too but is routine)."""
    return "Traceback" in entry["message"] or (
        entry["level"] == "SEVERE" and "Error" in entry["message"])


def is_fatal_hook(entry):
    """Which lines of the page hook (console_hook.js) fail a test: a Python traceback at
    any level, and an error-level line (console.error, an uncaught error, an unhandled
    rejection) that names an error."""
    return "Traceback" in entry["message"] or (
        entry["level"] in ERROR_LEVELS and "Error" in entry["message"])


def format_entry(entry):
    """A browser log entry as text. Console messages arrive as ``URL line:col "text"``
    with the text JSON-quoted; unquote it so a traceback reads as one."""
    message = entry["message"]
    match = re.match(r'^(\S+ \d+:\d+) (".*")$', message, re.DOTALL)
    if match:
        try:
            message = f"{match.group(1)}\n{json.loads(match.group(2))}"
        except ValueError:
            pass
    return f"[{entry['level']}] {message}"


class Tab:
    """One browser tab opened by ``Tabs.open``."""

    def __init__(self, tabs, handle, url):
        self._tabs = tabs
        self.driver = tabs.driver
        self.handle = handle
        self.url = url
        self.closed = False

    def __repr__(self):
        return f"<Tab {self.handle[-8:]} {self.url}>"

    def switch(self):
        # Always switch: the driver has one current window and any tab may have used it.
        self.driver.switch_to.window(self.handle)
        return self

    def js(self, script, *args):
        """``execute_script`` in this tab (``return ...`` to get a value back)."""
        self.switch()
        return self.driver.execute_script(script, *args)

    def call(self, method, *args, **kwargs):
        """Run ``method`` in the page through ``bjCall`` and return its JSON result;
        a Python exception in the page is raised here as ``PageError``."""
        self.switch()
        raw = self.driver.execute_async_script(
            "bjCall(arguments[0], arguments[1], arguments[2], arguments[arguments.length - 1])",
            method, json.dumps(args), json.dumps(kwargs))
        if not isinstance(raw, str):
            raise PageError("HarnessError", f"bjCall({method!r}) answered {raw!r}, not JSON")
        reply = json.loads(raw)
        if "error" in reply:
            error = reply["error"] or {}
            raise PageError(error.get("type", "Error"), error.get("message", ""))
        return reply.get("ok")

    def events(self):
        """The page's events so far, oldest first, as dicts."""
        return [json.loads(item) for item in self.js("return window.bjEvents || []")]

    def wait_ready(self, timeout=READY_TIMEOUT):
        state = {}

        def ready():
            state.update(self.driver.execute_script(
                "return {ready: window.bjReady === true,"
                " error: window.bjError ? String(window.bjError) : null,"
                " errors: (window.bjErrors || []).slice(-5)}"))
            if state["error"]:
                raise AssertionError(f"{self.url} failed to start: {state['error']}\n"
                                     + "\n".join(state["errors"]))
            return state["ready"]

        self.switch()
        wait_for(ready, timeout=timeout, interval=0.05,
                 message=lambda: f"{self.url} never set bjReady; last console errors: "
                                 + "\n".join(state.get("errors") or []))
        return self

    def reload(self):
        """Reload the page (a new Brython runtime, same tab) and wait until it is ready."""
        self._tabs.harvest(self)  # the reload discards window.bjErrors
        self.switch()
        self.driver.refresh()
        return self.wait_ready()

    def close(self):
        """Close the tab (what a user closing it does: pagehide, then gone)."""
        if self.closed:
            return
        self._tabs.harvest(self)
        try:
            self.switch()
            self.driver.close()
        except NoSuchWindowException:
            pass
        self.closed = True
        # The driver has no current window after close(); park it on the blank one.
        self._tabs.park()


class Tabs:
    """The ``tabs`` fixture: opens pages for one test and checks their console output.

    ``session`` is the engine's ``browsers.Session``; ``tabs.engine`` names the engine.
    """

    def __init__(self, session, base_url, base_handle):
        self.session = session
        self.engine = session.engine
        self.driver = session.driver
        self.base_url = base_url
        self.base_handle = base_handle
        self.opened = []
        self.errors = []    # fatal console lines collected so far, not yet reported
        self.messages = []  # every console line of this test's pages, as text
        self.allowed = []   # substrings of console lines a test expects (allow_errors)

    def open(self, path_or_url=DEFAULT_PAGE, background=False, **params):
        """Open a page at ``path_or_url`` with ``params`` in the query string, wait until
        it sets ``window.bjReady`` and return it as a ``Tab``.

        A page opens in the foreground: in its own window in Firefox and WebKit (their
        background tabs run timers at 1 Hz, and WebKit marks them hidden), as a tab in
        headless Chromium (whose tabs are all visible). ``background=True`` opens a tab
        behind the current window instead."""
        return self.open_page(path_or_url, background=background, **params).wait_ready()

    def open_page(self, path_or_url, background=False, **params):
        """Open a page without waiting for it (for pages outside the bjReady protocol,
        such as the demo): returns the ``Tab`` once the document has loaded. A page that
        does not load tests/pages/console_hook.js gets it now, after its load, so its
        later console output is checked too."""
        url = page_url(self.base_url, path_or_url, params)
        if background:
            self.driver.switch_to.new_window("tab")
        else:
            self.driver.switch_to.new_window(self.session.foreground)
        tab = Tab(self, self.driver.current_window_handle, url)
        self.opened.append(tab)
        self.driver.get(url)
        if self.driver.execute_script("return window.bjConsole === undefined"):
            with open(CONSOLE_HOOK, encoding="utf-8") as f:
                self.driver.execute_script(f.read())
        return tab

    def allow_errors(self, *substrings):
        """Do not fail the test for console lines containing any of ``substrings``
        (for tests that provoke an error on purpose)."""
        self.allowed.extend(substrings)

    def park(self):
        """Make the session's blank first window the current one again."""
        try:
            self.driver.switch_to.window(self.base_handle)
        except NoSuchWindowException:
            handles = self.driver.window_handles
            if handles:
                self.base_handle = handles[0]
                self.driver.switch_to.window(self.base_handle)

    def reportable(self, line):
        """False for a line that ``allow_errors`` lets through."""
        return not any(s in line for s in self.allowed)

    def harvest(self, tab):
        """Move a page's console lines (``window.bjConsole``, its workers' included) into
        ``self.messages``, and the fatal ones into ``self.errors``, before it reloads or
        closes and they are lost."""
        if tab.closed:
            return
        try:
            tab.switch()
            entries = self.driver.execute_script(
                "return (window.bjConsole && window.bjConsole.splice(0)) || []")
        except (NoSuchWindowException, WebDriverException):
            return
        for entry in entries:
            line = f"[{tab.handle[-8:]} {entry.get('source', 'page')} {entry['level']}] " \
                   f"{entry['message']}"
            self.messages.append(line)
            if is_fatal_hook(entry) and self.reportable(entry["message"]):
                self.errors.append(line)

    def harvest_hidden(self):
        """Move the error lines that pages logged after their pagehide (the hook keeps
        them in localStorage) into ``self.messages``/``self.errors``. Read from the base
        window, which shows a blank page of the test server's origin."""
        try:
            self.driver.switch_to.window(self.base_handle)
            entries = self.driver.execute_script(
                "var k = 'bjConsole:afterhide', v = localStorage.getItem(k);"
                " localStorage.removeItem(k); return v ? JSON.parse(v) : [];")
        except (NoSuchWindowException, WebDriverException):
            return
        for entry in entries:
            line = f"[{entry.get('source', 'hidden page')} {entry['level']}] {entry['message']}"
            self.messages.append(line)
            if is_fatal_hook(entry) and self.reportable(entry["message"]):
                self.errors.append(line)

    def console(self):
        """Every console line of this test's open pages so far (any level), as text."""
        for tab in self.opened:
            self.harvest(tab)
        self.park()
        return list(self.messages)

    def drain_log(self):
        """Read (and so empty) the browser console log of all tabs: chromedriver's
        ``get_log``; nothing in the engines that have none (the page hook covers them)."""
        if not self.session.console_log:
            return []
        try:
            entries = self.driver.get_log("browser")
        except WebDriverException:
            return []
        return entries

    def collect_errors(self):
        """All fatal console lines since the last call, from the browser log and every
        open page's hook; returns them and forgets them. The fixture calls this after
        each test; a test that provokes errors on purpose can call it itself."""
        for entry in self.drain_log():
            if is_fatal(entry) and self.reportable(entry["message"]):
                self.errors.append(format_entry(entry))
        for tab in self.opened:
            self.harvest(tab)
        self.harvest_hidden()
        self.park()
        errors, self.errors = self.errors, []
        return list(dict.fromkeys(errors))  # drop exact repeats, keep the order

    def close_all(self):
        """Close every window but the blank first one (also pop-ups a page opened)."""
        for tab in self.opened:
            tab.closed = True
        try:
            handles = self.driver.window_handles
        except WebDriverException:
            return
        for handle in handles:
            if handle == self.base_handle:
                continue
            try:
                self.driver.switch_to.window(handle)
                self.driver.close()
            except NoSuchWindowException:
                pass
        self.park()


def close_and_check(factory):
    """Close every tab of ``factory`` and fail the test on console errors that closing
    them left (pagehide handlers and the like)."""
    leftover = factory.collect_errors()
    factory.close_all()
    leftover += [format_entry(e) for e in factory.drain_log()
                 if is_fatal(e) and factory.reportable(e["message"])]
    if leftover:
        pytest.fail("errors in the page console while closing the tabs:\n"
                    + "\n".join(leftover), pytrace=False)


# -- helpers for tests of one queue -------------------------------------------------------

def open_leader(tabs, queue_name, **params):
    """Open a tab of the queue and wait until it leads."""
    tab = tabs.open(queue=queue_name, **params)
    wait_for(lambda: tab.call("page.state")["is_leader"], timeout=15,
             message="the tab never became leader")
    return tab


def page_now(tab):
    """The page's clock, epoch seconds (the clock jobs are stamped with)."""
    return tab.js("return Date.now() / 1000")


def jobs_named(tab, name):
    return tab.call("list", name=name, limit=None)
