"""Fault injection for the browser fault tests (test_faults*.py) and tools/soak.py.

Real faults, nothing of the browser mocked:

* ``Browser``: a dedicated headless Chromium on its own ``--user-data-dir`` (so a test
  can kill it and start a new one on the same profile), with ``kill()``: SIGKILL of the
  whole browser process tree, found from the pid of the chromedriver service the test
  started (the browser is its child), never by name.
* ``crash(tab)``: CDP ``Page.crash``, the tab's renderer dies as on a real crash.
* ``set_quota`` / ``probe_until_refused``: CDP ``Storage.overrideQuotaForOrigin``, then a
  probe write repeated until one is refused (IndexedDB keeps using space it was already
  granted for a while, so the override is trusted only once a write fails).
* ``RunLog``: the run log endpoint of tools/serve.py, a place outside the browser.
"""

import json
import os
import signal
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

import harness

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic",
    # A crashed or killed browser must not show a "restore pages" prompt or reopen tabs.
    "--disable-session-crashed-bubble", "--hide-crash-restore-bubble",
)


def _children():
    """{ppid: [pid, ...]} of every process, read from /proc."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after the last ')'.
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        out.setdefault(ppid, []).append(int(entry))
    return out


def descendants(pid):
    """Every process below ``pid`` (not ``pid`` itself), parents before children."""
    tree = _children()
    out, todo = [], [pid]
    while todo:
        for child in tree.get(todo.pop(0), ()):
            out.append(child)
            todo.append(child)
    return out


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


class Browser:
    """A dedicated headless Chromium on ``profile`` (a folder kept across restarts)."""

    def __init__(self, profile, prefs=None):
        self.profile = str(profile)
        self.prefs = prefs
        self.driver = None
        self.start()

    def start(self):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ARGS:
            options.add_argument(arg)
        options.add_argument(f"--user-data-dir={self.profile}")
        if self.prefs:
            options.add_experimental_option("prefs", self.prefs)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_script_timeout(harness.SCRIPT_TIMEOUT)
        self.driver.set_page_load_timeout(harness.READY_TIMEOUT)
        self.base_handle = self.driver.current_window_handle
        return self.driver

    def browser_pids(self):
        """The browser's processes: everything below the chromedriver we started."""
        return descendants(self.driver.service.process.pid)

    def kill(self):
        """SIGKILL the whole browser process tree at once (no shutdown, no flush), then
        stop its chromedriver. Returns the pids killed."""
        pids = self.browser_pids()
        assert pids, "no browser process found below the chromedriver"
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        harness.wait_for(lambda: not any(_alive(p) for p in pids), timeout=10,
                         message="the killed browser processes did not go away")
        try:
            self.driver.service.stop()  # our own chromedriver, by its handle
        except Exception:
            pass
        self.driver = None
        return pids

    def quit(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            finally:
                self.driver = None


def crash(tab):
    """Crash ``tab``'s renderer with CDP ``Page.crash`` (the command never answers: the
    target is gone; chromedriver reports that as an error, which is the point)."""
    tab.switch()
    try:
        tab.driver.execute_cdp_cmd("Page.crash", {})
    except WebDriverException:
        pass
    tab.closed = True  # nothing can be read from it any more
    # A crashed window cannot open a new one: make the blank first window current.
    tab._tabs.park()


def set_quota(driver, origin, size):
    """``Storage.overrideQuotaForOrigin``: ``size`` bytes, or None to lift the override."""
    params = {"origin": origin}
    if size is not None:
        params["quotaSize"] = int(size)
    driver.execute_cdp_cmd("Storage.overrideQuotaForOrigin", params)


def usage(driver, origin):
    return driver.execute_cdp_cmd("Storage.getUsageAndQuota", {"origin": origin})


def probe_until_refused(tab, nbytes, timeout=45):
    """Repeat a probe write of ``nbytes`` (page.probe, its own database) until the
    browser refuses one with QuotaExceededError. Returns that error name."""
    seen = {}

    def refused():
        seen["last"] = tab.call("page.probe", nbytes)
        return seen["last"] == "QuotaExceededError"
    harness.wait_for(refused, timeout=timeout, interval=0.5,
                     message=lambda: f"the quota override was never enforced: {seen}")
    return seen["last"]


def tight_quota(tab, origin, headroom, probe, timeout=45):
    """Set the origin's quota ``headroom`` bytes above its usage and return once the
    browser enforces it: a ``probe``-byte write (``probe > headroom``) is refused.

    Measured in Chromium 156: the override is enforced only after ~30 s (space already
    granted is used first), and the probes written meanwhile count as usage. So: probe
    until refused, delete the probe database, set the quota again above the usage now
    (enforced at once this time) and check that a probe is refused again."""
    driver = tab.driver
    set_quota(driver, origin, usage(driver, origin)["usage"] + headroom)
    probe_until_refused(tab, probe, timeout)
    tab.call("page.clear_probe")
    set_quota(driver, origin, usage(driver, origin)["usage"] + headroom)
    return probe_until_refused(tab, probe, timeout)


def probe_until_accepted(tab, nbytes, timeout=45):
    """Repeat the probe write until the browser accepts one again (space is back)."""
    harness.wait_for(lambda: tab.call("page.probe", nbytes) == "ok", timeout=timeout,
                     interval=0.5, message="the probe write was still refused")


class RunLog:
    """Client of tools/serve.py's run log ``name`` (append-only, 127.0.0.1 only). Reads
    are incremental: only entries not seen yet travel and get parsed."""

    def __init__(self, base_url, name):
        self.url = f"{base_url}/__runlog/{name}"
        self.name = name
        self._seen = 0     # entries read so far (the log only grows)
        self._parsed = []  # the JSON-object lines among them, with "server_at"
        self._kinds = {}   # kind -> how many

    def append(self, line):
        req = urllib.request.Request(self.url, data=line.encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def _update(self):
        with urllib.request.urlopen(f"{self.url}?since={self._seen}", timeout=30) as resp:
            fresh = json.loads(resp.read())
        self._seen += len(fresh)
        for entry in fresh:
            try:
                rec = json.loads(entry["line"])
            except ValueError:
                continue
            if isinstance(rec, dict):
                rec["server_at"] = entry["at"]
                self._parsed.append(rec)
                self._kinds[rec.get("kind")] = self._kinds.get(rec.get("kind"), 0) + 1

    def records(self, kind=None):
        """Entries whose line is a JSON object (what the pages write), each with the
        server's time as ``server_at``; ``kind`` keeps those of one kind."""
        self._update()
        return [r for r in self._parsed if kind is None or r.get("kind") == kind]

    def count(self, kind):
        """How many records of ``kind`` so far, without building a list (the soak polls
        this, and the same process serves the pages)."""
        self._update()
        return self._kinds.get(kind, 0)


def open_tabs(driver, server, base_handle):
    """A ``harness.Tabs`` factory on a dedicated browser."""
    return harness.Tabs(harness.browsers.Session("chromium", driver), server, base_handle)


def wait(predicate, timeout=10, message=None, interval=0.05):
    return harness.wait_for(predicate, timeout=timeout, message=message, interval=interval)


def now():
    return time.time()


def open_window(tabs, path, **params):
    """Like ``tabs.open`` but in a window of its own, so it can be hidden alone."""
    url = harness.page_url(tabs.base_url, path, params)
    tabs.driver.switch_to.new_window("window")
    tab = harness.Tab(tabs, tabs.driver.current_window_handle, url)
    tabs.opened.append(tab)
    tabs.driver.get(url)
    return tab.wait_ready()


def set_hidden(tab, hidden):
    """Minimise (hidden: document.visibilityState "hidden", as a tab in the background)
    or restore ``tab``'s window. Headless Chromium hides a minimised window's pages."""
    tab.switch()
    if hidden:
        tab.driver.minimize_window()
    else:
        wid = tab.driver.execute_cdp_cmd("Browser.getWindowForTarget", {})["windowId"]
        tab.driver.execute_cdp_cmd("Browser.setWindowBounds",
                                   {"windowId": wid, "bounds": {"windowState": "normal"}})
    want = "hidden" if hidden else "visible"
    wait(lambda: tab.js("return document.visibilityState") == want, timeout=5,
         message=f"the page never became {want}")
