"""A hidden leader (its window minimised: document.visibilityState "hidden", as for a tab
in the background) hands leadership to a visible tab, without interrupting its job.

Headless Chromium does not throttle a hidden page's timers, so this shows the handover,
not the throttling it exists for (the simulator in tests/sim covers throttled timers).
Other engines: Firefox and WebKit minimise windows through WebDriver too; not run here.
"""

import pytest

import faults_support as fs
from fault_fixtures import PAGE, fault_browser, finish_tabs, tabs_on  # noqa: F401


@pytest.fixture
def tabs(fault_browser, server):
    factory = tabs_on(fault_browser.driver, server, fault_browser.base_handle)
    yield factory
    finish_tabs(factory)


def test_a_hidden_leader_finishes_its_job_then_hands_over_to_a_visible_tab(
        tabs, server, queue_name):
    """Given two windows and the leader running a 2 s job, when the leader's window is
    minimised (hidden), then it finishes that job itself (attempt 1, run once) and only
    then the visible tab leads and runs the next jobs.

    Fails on a queue with no handover (checked by making handover_requested do
    nothing: the visible tab never leads)."""
    log = fs.RunLog(server, queue_name)
    opts = {"leader_silence": 2}
    first = fs.open_window(tabs, PAGE, queue=queue_name, opts=opts)
    fs.wait(lambda: first.call("page.state")["is_leader"], timeout=15)
    second = fs.open_window(tabs, PAGE, queue=queue_name, opts=opts)
    job = second.call("enqueue", "work", {"seconds": 2})
    fs.wait(lambda: log.records("run"), timeout=15, message="the job never started")

    fs.set_hidden(first, True)
    fs.wait(lambda: second.call("page.state")["is_leader"], timeout=15,
            message="the visible tab never took over")
    done = second.call("get", job["id"])
    assert done["status"] == "completed" and done["attempts"] == 1
    assert done["result"]["tab"] == first.call("page.state")["tab"]
    assert not first.call("page.state")["is_leader"]
    later = second.call("enqueue", "work", {"n": 1})
    assert second.call("wait", later["id"], timeout=20)["result"]["tab"] == \
        second.call("page.state")["tab"]
    assert [r["id"] for r in log.records("run")] == [job["id"], later["id"]]
    fs.set_hidden(first, False)
