"""Many tabs of one browser: one leader by Web Locks, events over BroadcastChannel,
failover with nothing lost and nothing run twice (many-tabs issue).

Runs are counted in localStorage by the test handlers, which survives closing the tab
that ran them.
"""

import time

import pytest

from harness import wait_for


def leaders(tabs_list):
    return [tab for tab in tabs_list if tab.call("page.state")["is_leader"]]


def runs_of(tab, tag):
    return [run for run in (tab.call("page.storage", "runs") or []) if run["tag"] == tag]


def test_exactly_one_leader_across_ten_leader_closes(tabs, queue_name):
    """Given 3 tabs of one queue, When the leader tab is closed 10 times in a row (a new
    tab opening each time), Then every sample shows exactly one leader."""
    open_tabs = [tabs.open(queue=queue_name) for _ in range(3)]
    assert len(leaders(open_tabs)) == 1

    for _ in range(10):
        old = leaders(open_tabs)[0]
        old.close()
        open_tabs.remove(old)
        open_tabs.append(tabs.open(queue=queue_name))
        wait_for(lambda: len(leaders(open_tabs)) == 1, timeout=5,
                 message="no new leader after the leader closed")
        assert len(leaders(open_tabs)) == 1  # one more sample of every tab: never two


def test_three_tabs_enqueue_a_hundred_jobs_each_and_each_runs_once(tabs, queue_name):
    """Given 3 tabs, When each enqueues 100 jobs at the same moment (without waiting for
    the others), Then all 300 complete and each handler ran exactly once."""
    open_tabs = [tabs.open(queue=queue_name) for _ in range(3)]
    for i, tab in enumerate(open_tabs):
        tab.js("""
            const tab = arguments[0];
            window.bjEnqueued = 0;
            for (let n = 0; n < 100; n++) {
              bjCall("enqueue", JSON.stringify(["count", {tag: tab + "-" + n}]), "{}",
                     () => { window.bjEnqueued += 1; });
            }""", f"t{i}")

    wait_for(lambda: open_tabs[0].call("counts")["completed"] == 300, timeout=60,
             message="300 jobs did not all complete")
    assert all(tab.js("return window.bjEnqueued") == 100 for tab in open_tabs)
    runs = open_tabs[0].call("page.storage", "runs")
    tags = [run["tag"] for run in runs]
    assert len(tags) == 300
    assert len(set(tags)) == 300  # nothing ran twice
    assert {run["attempt"] for run in runs} == {1}


def test_closing_the_leader_mid_job_reruns_it_in_another_tab(tabs, queue_name):
    """Given 2 tabs and a job processing in the leader, When the leader tab closes,
    Then the other tab becomes leader and reruns the job as attempt 2 to completion."""
    a = tabs.open(queue=queue_name)
    b = tabs.open(queue=queue_name)
    leader, follower = (a, b) if a.call("page.state")["is_leader"] else (b, a)
    job = follower.call("enqueue", "sleep", {"seconds": 1.0, "tag": "job"})
    wait_for(lambda: len(runs_of(follower, "job")) == 1)

    leader.close()

    done = follower.call("wait", job["id"], timeout=15)
    assert done["status"] == "completed"
    assert done["attempts"] == 2
    assert done["result"]["tab"] == follower.call("page.state")["tab"]
    assert [run["attempt"] for run in runs_of(follower, "job")] == [1, 2]


def test_a_leader_that_stops_hands_its_running_job_over(tabs, queue_name):
    """Given 2 tabs and a job processing in the leader, When the leader calls stop(),
    Then the other tab leads and reruns the job to completion as attempt 2, and the
    stopped tab's late outcome is not written."""
    a = tabs.open(queue=queue_name)
    b = tabs.open(queue=queue_name)
    leader, follower = (a, b) if a.call("page.state")["is_leader"] else (b, a)
    job = leader.call("enqueue", "sleep", {"seconds": 1.5, "tag": "job"})
    wait_for(lambda: len(runs_of(leader, "job")) == 1)

    leader.call("stop")

    assert leader.call("page.state")["is_leader"] is False
    wait_for(lambda: follower.call("page.state")["is_leader"], timeout=5)
    done = follower.call("wait", job["id"], timeout=15)
    assert done["status"] == "completed" and done["attempts"] == 2
    assert done["result"]["tab"] == follower.call("page.state")["tab"]
    # the stopped tab's handler finished too (1.5 s) but wrote nothing
    wait_for(lambda: follower.call("page.storage", "finish:job") == 2, timeout=5)
    assert follower.call("get", job["id"])["attempts"] == 2


def test_a_tab_opened_while_the_leader_runs_a_job_leaves_it_alone(tabs, queue_name):
    """Given a leader running an 8-second job, When a new tab of the queue opens,
    Then the new tab does not run, reset or fail that job: it completes on attempt 1."""
    leader = tabs.open(queue=queue_name)
    # 8 s: opening a page takes several seconds in Firefox and WebKit on a loaded machine,
    # and the job must still be running when the newcomer is ready.
    job = leader.call("enqueue", "sleep", {"seconds": 8, "tag": "job"})
    wait_for(lambda: leader.call("get", job["id"])["status"] == "processing")

    newcomer = tabs.open(queue=queue_name)

    assert newcomer.call("page.state")["is_leader"] is False
    assert newcomer.call("get", job["id"])["status"] == "processing"
    done = newcomer.call("wait", job["id"], timeout=15)
    assert done["status"] == "completed" and done["attempts"] == 1
    assert [run["attempt"] for run in runs_of(newcomer, "job")] == [1]


def test_followers_see_the_leaders_jobs_through_wait_and_events(tabs, queue_name):
    """Given a leader and a follower, When the follower enqueues a job,
    Then the leader runs it, and the follower's wait and completed event see it."""
    a = tabs.open(queue=queue_name)
    b = tabs.open(queue=queue_name)
    follower = b if a.call("page.state")["is_leader"] else a
    leader = a if follower is b else b

    job = follower.call("enqueue", "progress", {"steps": 2})
    done = follower.call("wait", job["id"], timeout=10)

    assert done["status"] == "completed"
    assert done["result"] == {"steps": 2}

    def events_for(tab, name):
        return [e for e in tab.events() if e["event"] == name and e["data"]["id"] == job["id"]]
    wait_for(lambda: events_for(follower, "completed"))
    assert len(events_for(follower, "started")) == 1
    assert len(events_for(follower, "progress")) == 2
    assert len(events_for(leader, "enqueued")) == 1  # the follower's enqueue reached it


def test_a_frozen_leader_is_replaced_and_writes_nothing_when_it_wakes(tabs, queue_name):
    """Given 2 tabs with leader_silence=1 s and a 3-second job processing in the leader,
    When the leader tab is frozen (page lifecycle), Then the follower takes over within
    the silence (plus its check period) and reruns the job to completion;
    When the old leader is unfrozen, Then it steps down, neither completes, fails nor
    reruns the job, and one tab leads."""
    if not tabs.session.cdp:
        pytest.skip(f"{tabs.engine}: freezing a page needs Chromium's DevTools protocol "
                    "(Page.setWebLifecycleState); WebDriver has no way to freeze a page")
    opts = {"leader_silence": 1.0}
    a = tabs.open(queue=queue_name, opts=opts)
    b = tabs.open(queue=queue_name, opts=opts)
    job = b.call("enqueue", "sleep", {"seconds": 3, "tag": "job"})
    wait_for(lambda: len(runs_of(b, "job")) == 1)
    # The leader is the tab running the job (asking "who leads" before the job started
    # could name a tab that handed over since: switching windows hides the others).
    runner = runs_of(b, "job")[0]["tab"]
    leader, follower = (a, b) if a.call("page.state")["tab"] == runner else (b, a)
    tabs.allow_errors("leader silent")

    def leader_events(tab):
        return [e["data"] for e in tab.events() if e["event"] == "leader"]
    seen_before_freeze = len(leader_events(leader))
    leader.switch()
    tabs.driver.execute_cdp_cmd("Page.setWebLifecycleState", {"state": "frozen"})
    frozen_at = time.monotonic()
    wait_for(lambda: follower.call("page.state")["is_leader"], timeout=10)
    took_over = time.monotonic() - frozen_at
    done = follower.call("wait", job["id"], timeout=15)
    assert done["status"] == "completed" and done["attempts"] == 2
    new_tab = follower.call("page.state")["tab"]
    assert done["result"]["tab"] == new_tab
    assert took_over < 5, f"takeover took {took_over:.1f} s with leader_silence=1"

    leader.switch()
    tabs.driver.execute_cdp_cmd("Page.setWebLifecycleState", {"state": "active"})
    # It steps down at once: its epoch is over. (It may lead again afterwards by a regular
    # hand-over: showing the old leader's window hides the new leader's, and a hidden
    # leader hands over to a visible tab. So the test checks the step-down event, not
    # who leads at the end.)
    wait_for(lambda: False in leader_events(leader)[seen_before_freeze:], timeout=5,
             message="the thawed leader never stepped down")
    # The old leader's 3 s handler still ends (it was only paused); its outcome is
    # refused: the job keeps the new leader's result and attempt count.
    wait_for(lambda: follower.call("page.storage", "finish:job") == 2, timeout=10)
    final = follower.call("get", job["id"])
    assert final["status"] == "completed" and final["attempts"] == 2
    assert final["result"]["tab"] == new_tab
    assert [run["attempt"] for run in runs_of(follower, "job")] == [1, 2]
    wait_for(lambda: len(leaders([leader, follower])) == 1, timeout=10,
             message="not exactly one leader after the thaw")


def test_malformed_channel_messages_are_ignored_and_reported(tabs, queue_name):
    """Given 2 tabs, When garbage is posted on the queue's BroadcastChannel,
    Then both tabs keep working (a job still runs) and the garbage is warned about."""
    a = tabs.open(queue=queue_name)
    b = tabs.open(queue=queue_name)
    a.js("""
        const ch = new BroadcastChannel(arguments[0]);
        ch.postMessage("nonsense");
        ch.postMessage({v: 1, type: "event", from: "x", data: {event: "completed"}});
        ch.postMessage({v: 99, type: "wake", from: "x"});
        ch.close();""", "brython_jobs." + queue_name)

    job = b.call("enqueue", "echo", "still fine")
    assert a.call("wait", job["id"], timeout=10)["result"] == "still fine"
    warnings = [line for line in tabs.console() if "malformed message" in line]
    assert len(warnings) >= 3


def test_a_reloaded_leader_leads_again_and_runs_jobs_within_seconds(tabs, queue_name,
                                                                    request):
    """Given one tab leading a queue (it has run a job), When the tab reloads,
    Then the reloaded page leads again and runs a new job within 5 s of the reload, and
    neither the old nor the new page prints a traceback (the after-test check, which
    also sees what the old page logs after its pagehide)."""
    tab = tabs.open(queue=queue_name)
    wait_for(lambda: tab.call("page.state")["is_leader"], timeout=15)
    first = tab.call("enqueue", "echo", "before")
    assert tab.call("wait", first["id"], timeout=10)["status"] == "completed"

    reloaded_at = time.monotonic()
    tab.reload()
    job = tab.call("enqueue", "echo", "after")
    done = tab.call("wait", job["id"], timeout=30)
    took = time.monotonic() - reloaded_at

    assert done["status"] == "completed" and done["result"] == "after"
    assert tab.call("page.state")["is_leader"] is True
    assert took < 5, f"the reloaded page ran its first job {took:.1f} s after the reload"
