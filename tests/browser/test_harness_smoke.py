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


def test_collect_errors_returns_a_python_traceback(tabs):
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


# The two tests below prove, in every engine, that the after-test console check fails a
# test whose page (or a worker of it) printed a Python traceback. Their bodies pass; the
# harness must then fail them, which xfail(strict=True, raises=<pytest.fail>) expects: a
# pass (XPASS) fails the run, as would any other error (a timeout of the body's waits).
HARNESS_FAILS = pytest.mark.xfail(
    strict=True, raises=pytest.fail.Exception,
    reason="proves the harness: a Python traceback on the console must fail the test")


def hook_saw(tab, text):
    """True once the page's console hook recorded a line containing ``text`` (read
    without draining, so the after-test check still sees it)."""
    return tab.js("return (window.bjConsole || []).some(e => e.message.includes(arguments[0])"
                  " && e.message.includes('Traceback'))", text)


@HARNESS_FAILS
def test_a_python_traceback_in_the_page_fails_the_test(tabs):
    """Given a page, When a Python callback run by a JS timer raises (Brython prints the
    traceback to the console), Then the harness fails the test after its body passed."""
    tab = tabs.open(SMOKE)
    tab.js("setTimeout(window.bjBoom, 0)")
    wait_for(lambda: hook_saw(tab, "ZeroDivisionError"), timeout=10,
             message="the console hook never recorded the traceback")


@HARNESS_FAILS
def test_a_python_traceback_in_a_worker_fails_the_test(tabs, queue_name):
    """Given a leader page with a worker, When a Python callback in the worker raises
    (a traceback on the worker's console, forwarded to the page by the hook), Then the
    harness fails the test after its body passed."""
    tab = tabs.open("/tests/pages/worker_tab.html", queue=queue_name)
    wait_for(lambda: tab.call("page.state")["is_leader"], timeout=15)
    job = tab.call("enqueue", "w_crash", None, retries=0)
    assert tab.call("wait", job["id"], timeout=30)["status"] == "failed"
    wait_for(lambda: hook_saw(tab, "no_such_function"), timeout=10,
             message=lambda: f"no worker traceback recorded: {tab.js('return bjConsole')}")
