"""Eviction (issue 14, item 4): ``JobQueue(..., persist=True)`` asks for persistent
storage at ``start()``; ``await jobs.storage()`` reports usage, quota and persisted.

What each engine grants (Chromium measured here; the others from their documentation):
headless Chromium 156 with a fresh profile refuses ``persist()`` (no site engagement) and
grants it once the origin has the ``durableStorage`` permission (set here through CDP
Browser.grantPermissions; a browser grants it to installed or bookmarked sites); Firefox
asks the user with a prompt; Safari grants it to a site the user interacts with, and
home-screen web apps are persistent anyway.
"""

import pytest

import faults_support as fs
from fault_fixtures import PAGE, finish_tabs, tabs_on


@pytest.fixture
def fresh(tmp_path):
    """A Chromium with a fresh profile: nothing granted to the origin yet."""
    browser = fs.Browser(tmp_path / "profile")
    yield browser
    browser.quit()


def browser_view(tab):
    """What the browser itself says, read by plain JS in the page."""
    return tab.driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "Promise.all([navigator.storage.estimate(), navigator.storage.persisted()])"
        ".then(function (r) { done({usage: r[0].usage, quota: r[0].quota,"
        " persisted: r[1]}); });")


def warnings(driver, text):
    return [e for e in driver.get_log("browser")
            if e["level"] == "WARNING" and text in e["message"]]


def test_persist_is_asked_at_start_and_storage_reports_it(fresh, server, queue_name):
    """Given a fresh profile (the browser refuses persistence):
    when a queue starts without persist, then persist() is never called and storage()
    reports usage, quota and persisted False as the browser does;
    when a queue starts with persist=True, then persist() is called once, its refusal is
    a console warning about eviction (not an error), and the queue works;
    when the origin is granted durableStorage and a persist=True queue starts, then
    storage() reports persisted True.

    Fails on a queue that ignores persist (no call: checked by making _ask_persist
    return at once) and on a storage() that does not read the browser."""
    tabs = tabs_on(fresh.driver, server, fresh.base_handle)
    plain = tabs.open(PAGE, queue=queue_name, spy=1)
    report = plain.call("page.storage")
    assert plain.js("return window.bjPersistCalls") == []
    view = browser_view(plain)
    assert report["persisted"] is False and view["persisted"] is False
    assert 0 < report["usage"] < report["quota"]
    # Chromium derives the quota from the free disk space, which moves between reads.
    assert abs(report["quota"] - view["quota"]) < report["quota"] / 100
    # The leader's heartbeats write between the two reads.
    assert abs(report["usage"] - view["usage"]) < 1024 * 1024

    fresh.driver.get_log("browser")
    asking = tabs.open(PAGE, queue=queue_name, spy=1, opts={"persist": True})
    assert asking.js("return window.bjPersistCalls") == [False]
    assert warnings(fresh.driver, "may be evicted")
    assert asking.call("page.storage")["persisted"] is False
    job = asking.call("enqueue", "work", {"n": 1})
    assert asking.call("wait", job["id"], timeout=20)["status"] == "completed"

    fresh.driver.execute_cdp_cmd("Browser.grantPermissions",
                                 {"origin": server, "permissions": ["durableStorage"]})
    granted = tabs.open(PAGE, queue=queue_name, spy=1, opts={"persist": True})
    assert granted.js("return window.bjPersistCalls") == [True]
    assert granted.call("page.storage")["persisted"] is True
    assert browser_view(granted)["persisted"] is True
    finish_tabs(tabs)
