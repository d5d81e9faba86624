"""Debounced and throttled triggers (issue 5), called from page code in real tabs.

``page.trigger(kind, name, **options)`` creates a trigger in a tab and returns its handle;
``page.fire`` calls it without awaiting (as a DOM event handler would), ``page.fire_await``
awaits what the call returns, and ``page.timed_burst`` calls it from page timers with
payloads ``{"n": i, "prefix": ..., "at": page clock time of the call}``, keeping every
call for ``page.calls``.
"""

import time

import pytest

from harness import jobs_named, open_leader, page_now, PageError, wait_for


def burst_done(tab, count):
    return lambda: len(tab.call("page.calls")) >= count


def test_debounced_bursts_from_three_tabs_give_one_run_with_the_last_payload(
        tabs, queue_name):
    """Given 3 tabs, each with debounced("record", wait=0.5)
    When each tab calls it 100 times within about 1 s
    Then exactly one job runs, at least 0.5 s after the last call, with the payload of
    the last call made in any tab."""
    tab_list = [open_leader(tabs, queue_name)] + [tabs.open(queue=queue_name) for _ in range(2)]
    handles = [tab.call("page.trigger", "debounce", "record", wait=0.5) for tab in tab_list]

    for i, (tab, handle) in enumerate(zip(tab_list, handles)):
        tab.call("page.timed_burst", handle, 100, 8, prefix=f"tab{i}")
    for tab in tab_list:
        wait_for(burst_done(tab, 100), timeout=10)

    calls = [call for tab in tab_list for call in tab.call("page.calls")]
    last_at = max(call["at"] for call in calls)
    assert last_at - min(call["at"] for call in calls) < 2.0  # the burst really was tight
    last_calls = [call for call in calls if call["at"] == last_at]  # (same ms: any of them)
    first = tab_list[0]
    wait_for(lambda: first.call("page.storage", "order"), timeout=10, message="no run")
    time.sleep(0.7)  # longer than wait + one write window: a second run would be due by now
    runs = first.call("page.storage", "order")
    assert len(runs) == 1, runs
    assert runs[0] in last_calls, (runs[0], last_calls)
    [job] = jobs_named(first, "record")
    assert job["status"] == "completed" and job["payload"] == runs[0]
    assert job["started_at"] >= last_at + 0.5 - 0.01, (job, last_at)


def test_debounced_with_max_wait_runs_during_a_long_burst(tabs, queue_name):
    """Given debounced("record", wait=0.5, max_wait=1.0)
    When it is called every 100 ms for 3 s
    Then 2 to 4 jobs run, in call order, the last one with the last call's payload."""
    tab = open_leader(tabs, queue_name)
    handle = tab.call("page.trigger", "debounce", "record", wait=0.5, max_wait=1.0)

    tab.call("page.timed_burst", handle, 30, 100)

    def last_run_done():
        order = tab.call("page.storage", "order") or []
        return order and order[-1]["n"] == 29
    wait_for(last_run_done, timeout=10,
             message=lambda: f"runs so far: {tab.call('page.storage', 'order')}")
    calls = tab.call("page.calls")
    assert calls[-1]["at"] - calls[0]["at"] < 3.2, "the page's timers stretched the burst"
    runs = tab.call("page.storage", "order")
    assert 2 <= len(runs) <= 4, runs
    numbers = [run["n"] for run in runs]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), numbers
    counts = tab.call("counts")
    assert counts["pending"] == 0 and counts["processing"] == 0, counts


def test_debounced_call_while_its_job_is_processing_gives_exactly_one_more_run(
        tabs, queue_name):
    """Given a debounced slow job (1.5 s) that is processing
    When the trigger is called 3 more times meanwhile
    Then exactly one more job runs after it, with the latest payload."""
    tab = open_leader(tabs, queue_name)
    handle = tab.call("page.trigger", "debounce", "sleep", wait=0.2)
    first = tab.call("page.fire_await", handle, {"seconds": 1.5, "tag": "d", "n": 1})
    wait_for(lambda: tab.call("get", first["id"])["status"] == "processing", timeout=10)

    tab.call("page.fire", handle, {"seconds": 0.1, "tag": "d", "n": 2})
    tab.call("page.fire", handle, {"seconds": 0.1, "tag": "d", "n": 3})
    second = tab.call("page.fire_await", handle, {"seconds": 0.1, "tag": "d", "n": 4})

    assert tab.call("get", first["id"])["status"] == "processing"  # the calls came during it
    assert second["id"] != first["id"] and second["status"] == "pending"
    done_first = tab.call("wait", first["id"], timeout=10)
    done_second = tab.call("wait", second["id"], timeout=10)
    assert done_first["status"] == done_second["status"] == "completed"
    assert done_first["payload"]["n"] == 1
    assert done_second["payload"]["n"] == 4
    assert done_second["started_at"] >= done_first["finished_at"]
    assert len(jobs_named(tab, "sleep")) == 2
    assert tab.call("page.storage", "start:d") == 2


def test_throttled_runs_at_most_once_per_interval_with_a_trailing_run(tabs, queue_name):
    """Given throttled("count", interval=1.0)
    When it is called every 50 ms for 2.5 s
    Then 2 to 4 jobs start, the first within 0.3 s of the first call, starts are about an
    interval apart, and the last run carries the last call's payload."""
    tab = open_leader(tabs, queue_name)
    handle = tab.call("page.trigger", "throttle", "count", interval=1.0)

    tab.call("page.timed_burst", handle, 50, 50)

    def last_run_done():
        return [job for job in jobs_named(tab, "count")
                if job["payload"]["n"] == 49 and job["status"] == "completed"]
    wait_for(last_run_done, timeout=10,
             message=lambda: f"jobs so far: {jobs_named(tab, 'count')}")
    calls = tab.call("page.calls")
    assert calls[-1]["at"] - calls[0]["at"] < 2.8, "the page's timers stretched the burst"
    first_call = calls[0]
    starts = sorted(job["started_at"] for job in jobs_named(tab, "count"))
    assert 2 <= len(starts) <= 4, starts
    assert starts[0] - first_call["at"] <= 0.3, (starts[0], first_call)
    for before, after in zip(starts, starts[1:]):
        assert after - before >= 1.0 - 0.3, starts  # late starts may close up a little
    assert len(tab.call("page.storage", "runs")) == len(starts)


def test_debounced_burst_survives_a_reload(tabs, queue_name, request):
    """Given a debounced("record", wait=5.0, max_wait=5.0) burst begun in a tab
    When the tab reloads in the middle of the burst and calls the trigger once more
    Then that call joins the same pending job, which runs once, with the latest payload,
    when max_wait after the first call is up."""
    # max_wait pins the run to 5 s after the first call, whatever the reload takes;
    # 5 s leave room for a slow reload on a loaded machine.
    options = {"wait": 5.0, "max_wait": 5.0}
    tab = open_leader(tabs, queue_name)
    handle = tab.call("page.trigger", "debounce", "record", **options)
    tab.call("page.fire", handle, {"n": 1})
    before = tab.call("page.fire_await", handle, {"n": 2})
    assert before["status"] == "pending"

    tab.reload()

    handle = tab.call("page.trigger", "debounce", "record", **options)
    after = tab.call("page.fire_await", handle, {"n": 3})
    assert after["id"] == before["id"] and after["status"] == "pending", (before, after)
    done = tab.call("wait", after["id"], timeout=15)
    assert done["status"] == "completed" and done["result"] == {"n": 3}
    assert tab.call("page.storage", "order") == [{"n": 3}]
    assert len(jobs_named(tab, "record")) == 1


def test_awaiting_a_trigger_call_gives_the_pending_job(tabs, queue_name):
    """Given a debounced and a throttled trigger
    When a call's return value is awaited
    Then it is the pending Job the call joined: debounced calls of one burst give the
    same job with the latest payload, due `wait` after the call."""
    tab = open_leader(tabs, queue_name)
    debounced = tab.call("page.trigger", "debounce", "echo", wait=5.0)
    throttled = tab.call("page.trigger", "throttle", "record", interval=10.0, key="thr")

    before = page_now(tab)
    job = tab.call("page.fire_await", debounced, {"v": 1})
    again = tab.call("page.fire_await", debounced, {"v": 2})
    first_throttled = tab.call("page.fire_await", throttled, {"v": 3})

    assert job["status"] == "pending" and job["name"] == "echo" and job["key"] == "echo"
    assert job["payload"] == {"v": 1}
    assert before + 5.0 <= job["run_at"] <= before + 7.0, (before, job)
    assert again["id"] == job["id"] and again["payload"] == {"v": 2}
    assert first_throttled["name"] == "record" and first_throttled["key"] == "thr"
    assert first_throttled["payload"] == {"v": 3}
    assert tab.call("get", job["id"])["status"] == "pending"


def test_bad_trigger_payload_raises_at_the_call_and_writes_nothing(tabs, queue_name):
    """Given a debounced and a throttled trigger
    When either is called with a set as payload
    Then the call raises TypeError and nothing is written; a good call pending in the
    same write window keeps its payload."""
    tab = open_leader(tabs, queue_name)
    debounced = tab.call("page.trigger", "debounce", "echo", wait=0.3)
    throttled = tab.call("page.trigger", "throttle", "echo", interval=1.0, key="thr")
    bad = {"__set__": [1, 2]}

    for method in ("page.fire", "page.fire_await"):
        for handle in (debounced, throttled):
            with pytest.raises(PageError) as info:
                tab.call(method, handle, bad)
            assert info.value.type == "TypeError", info.value

    assert tab.call("page.writes", debounced) == 0 and tab.call("page.writes", throttled) == 0
    time.sleep(0.5)  # longer than a write window plus wait: a stray write would show now
    assert tab.call("list", limit=None) == []

    tab.call("page.fire", debounced, {"v": 1})
    with pytest.raises(PageError) as info:
        tab.call("page.fire", debounced, {"v": bad})
    assert info.value.type == "TypeError"
    job = wait_for(lambda: jobs_named(tab, "echo"), timeout=5)[0]
    done = tab.call("wait", job["id"], timeout=10)
    assert done["result"] == {"v": 1}
    assert len(jobs_named(tab, "echo")) == 1


def test_a_handler_function_offers_its_own_triggers(tabs, queue_name):
    """Given the echo handler registered with @jobs.handler,
    When its debounced trigger (echo.debounced(wait=0.3)) is called 3 times in a row,
    Then one echo job runs, with the last call's payload."""
    tab = open_leader(tabs, queue_name)
    handle = tab.call("page.handler_trigger", "debounce", "echo", wait=0.3)

    for n in range(3):
        tab.call("page.fire", handle, {"n": n})

    wait_for(lambda: [j for j in jobs_named(tab, "echo") if j["status"] == "completed"],
             timeout=10, message="the debounced echo never ran")
    runs = jobs_named(tab, "echo")
    assert len(runs) == 1
    assert runs[0]["result"] == {"n": 2}
    assert runs[0]["key"] == "echo"
