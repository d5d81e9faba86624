"""Fixtures shared by the fault tests: a dedicated Chromium per module (a test may crash
its tabs), and a ``tabs`` factory on it that checks console errors as conftest's does.

The test modules import these names explicitly.
"""

import pytest

import faults_support as fs
import harness

PAGE = "/tests/pages/faults.html"


@pytest.fixture(scope="module")
def fault_browser(tmp_path_factory):
    """A headless Chromium of this module's own (own profile), quit at the end."""
    browser = fs.Browser(tmp_path_factory.mktemp("fault-profile"))
    yield browser
    browser.quit()


def tabs_on(driver, server, base_handle):
    """A ``harness.Tabs`` on ``driver`` (a Chromium of this module's); the caller closes
    it with ``finish_tabs``."""
    factory = harness.Tabs(harness.browsers.Session("chromium", driver), server,
                           base_handle)
    factory.park()
    factory.drain_log()
    return factory


def finish_tabs(factory):
    """Close every tab and fail on console errors left by closing them."""
    harness.close_and_check(factory)


def leader_of(tabs_list, timeout=10):
    """The one tab of ``tabs_list`` that leads (waits until exactly one does)."""
    def one():
        leaders = [t for t in tabs_list if not t.closed and t.call("page.state")["is_leader"]]
        return leaders[0] if len(leaders) == 1 else None
    return fs.wait(one, timeout=timeout, message="no single leader among the tabs")
