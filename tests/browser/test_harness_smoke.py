"""The harness itself, on tests/pages/smoke.html (Brython only, no brython_jobs)."""

import pytest

from harness import PageError, wait_for

SMOKE = "/tests/pages/smoke.html"


def test_call_round_trip(tabs):
    tab = tabs.open(SMOKE)
    assert tab.call("answer") == 42
    # Arguments travel as JSON both ways; None must survive as null.
    assert tab.call("echo", 1, "two", [3], None, key={"x": None}) == {
        "args": [1, "two", [3], None], "kwargs": {"key": {"x": None}}}


def test_page_exception_becomes_page_error(tabs):
    tab = tabs.open(SMOKE)
    with pytest.raises(PageError) as info:
        tab.call("fail", "nope")
    assert info.value.type == "KeyError"
    assert "nope" in info.value.message


def test_console_check_catches_a_python_traceback(tabs):
    tab = tabs.open(SMOKE)
    # An uncaught exception in a Python callback run by a JS timer.
    tab.js("setTimeout(window.bjBoom, 0)")
    found = []

    def traceback_seen():
        found.extend(tabs.collect_errors())
        return any("Traceback" in line and "ZeroDivisionError" in line for line in found)

    wait_for(traceback_seen, timeout=10, message=lambda: f"no traceback collected: {found}")
    # collect_errors() consumed the lines, so the after-test check passes.


def test_tabs_reload_and_close(tabs):
    first = tabs.open(SMOKE, flag=True, opts={"a": [1, 2]})
    second = tabs.open(SMOKE)
    assert first.handle != second.handle
    assert first.js("return location.search") == "?flag=1&opts=%7B%22a%22%3A+%5B1%2C+2%5D%7D"
    first.js("window.marker = 1")
    first.reload()
    assert first.js("return window.marker === undefined && window.bjReady === true")
    second.close()
    second.close()  # closing twice is harmless
    assert second.handle not in tabs.driver.window_handles
    assert first.call("answer") == 42
