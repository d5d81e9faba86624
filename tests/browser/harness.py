"""Reusable pieces of the Selenium harness (the fixtures live in conftest.py).

Tests import what they need from here::

    from harness import PageError, wait_for

Protocol between the harness and a test page (tests/pages/tab.html, smoke.html):

* the page sets ``window.bjReady = true`` once it can take calls, or ``window.bjError`` to
  a message when its start-up failed;
* ``bjCall(method, args_json, kwargs_json, done)`` runs ``method`` and calls ``done`` with
  a JSON string ``{"ok": value}`` or ``{"error": {"type": ..., "message": ...}}``;
* ``window.bjEvents`` is an array of JSON strings ``{"event", "data", "at"}``;
* ``window.bjErrors`` is an array of strings, one per ``console.error`` call (Brython
  writes tracebacks to ``sys.stderr``, which is ``console.error``).
"""

import importlib.util
import json
import os
import re
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import NoSuchWindowException, WebDriverException
from selenium.webdriver.chrome.service import Service

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
READY_TIMEOUT = 30.0
SCRIPT_TIMEOUT = 60.0
DEFAULT_PAGE = "/tests/pages/tab.html"

CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",  # we run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # /dev/shm is small in containers; tabs would crash
    # No traffic except to our own server: the machine has no internet, and these
    # background fetches would only slow start-up down or stall on timeouts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


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


def load_serve_module():
    """tools/serve.py as a module (tools/ is a folder of scripts, not a package)."""
    path = os.path.join(ROOT, "tools", "serve.py")
    spec = importlib.util.spec_from_file_location("bj_tools_serve", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start_browser(user_data_dir):
    """One headless Chromium driven by Debian's chromedriver.

    Both paths are given explicitly: with a Service path Selenium skips Selenium Manager,
    which would otherwise try to download a driver and a browser.
    """
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    # Console output (print -> INFO, tracebacks -> SEVERE) for driver.get_log("browser").
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(SCRIPT_TIMEOUT)
    driver.set_page_load_timeout(READY_TIMEOUT)
    return driver


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
    """Which console lines fail a test: any Python traceback, and any SEVERE entry that
    names an error (a failed resource load, e.g. Brython probing ``name.py`` before
    ``name/__init__.py``, is SEVERE too but is routine)."""
    return "Traceback" in entry["message"] or (
        entry["level"] == "SEVERE" and "Error" in entry["message"])


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
    """The ``tabs`` fixture: opens tabs for one test and checks their console output."""

    def __init__(self, driver, base_url, base_handle):
        self.driver = driver
        self.base_url = base_url
        self.base_handle = base_handle
        self.opened = []
        self.errors = []  # fatal console lines collected so far, not yet reported
        self.allowed = []  # substrings of console lines a test expects (allow_errors)

    def open(self, path_or_url=DEFAULT_PAGE, **params):
        """Open a new tab at ``path_or_url`` with ``params`` in the query string, wait
        until the page sets ``window.bjReady`` and return it as a ``Tab``."""
        url = page_url(self.base_url, path_or_url, params)
        self.driver.switch_to.new_window("tab")
        tab = Tab(self, self.driver.current_window_handle, url)
        self.opened.append(tab)
        self.driver.get(url)
        return tab.wait_ready()

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
        """Move a tab's ``window.bjErrors`` into ``self.errors`` (before it reloads or
        closes and the array is lost). Every console.error line counts: the page only
        writes there for errors."""
        if tab.closed:
            return
        try:
            tab.switch()
            lines = self.driver.execute_script(
                "return (window.bjErrors && window.bjErrors.splice(0)) || []")
        except (NoSuchWindowException, WebDriverException):
            return
        for line in lines:
            if ("Traceback" in line or "Error" in line) and self.reportable(line):
                self.errors.append(f"[{tab.handle[-8:]} bjErrors] {line}")

    def drain_log(self):
        """Read (and so empty) the browser console log of all tabs."""
        try:
            entries = self.driver.get_log("browser")
        except WebDriverException:
            return []
        return entries

    def collect_errors(self):
        """All fatal console lines since the last call, from the browser log and every
        open tab's ``bjErrors``; returns them and forgets them. The fixture calls this
        after each test; a test that provokes errors on purpose can call it itself."""
        for entry in self.drain_log():
            if is_fatal(entry) and self.reportable(entry["message"]):
                self.errors.append(format_entry(entry))
        for tab in self.opened:
            self.harvest(tab)
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
