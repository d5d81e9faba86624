"""When jobs run (issue 4): priority order, independent queues, delays, TTL expiry,
recurring schedules, pause and cancel, in real tabs on tests/pages/tab.html.

Times compared here are epoch seconds from the page clock (``Date.now() / 1000``): the
job's ``created_at``/``run_at``/``started_at``/``finished_at`` and ``page_now(tab)``.
"""

import time

from harness import jobs_named, open_leader, page_now, wait_for


def status(tab, job_id):
    return tab.call("get", job_id)["status"]


def test_paused_queue_runs_in_priority_order_once_resumed(tabs, queue_name):
    """Given a leader tab whose queue is paused
    When 10 jobs of mixed priorities (with ties) are enqueued and the queue is resumed
    Then none ran while paused, and they run highest priority first, FIFO on ties."""
    tab = open_leader(tabs, queue_name)
    tab.call("pause", "default")
    priorities = [0, 2, 1, 2, 0, 5, 1, -1, 2, 0]
    for index, priority in enumerate(priorities):
        tab.call("enqueue", "record", {"i": index, "p": priority}, priority=priority)
    assert tab.call("page.storage", "order") is None  # nothing ran while paused
    assert tab.call("counts")["pending"] == 10

    tab.call("resume", "default")

    wait_for(lambda: len(tab.call("page.storage", "order") or []) == 10, timeout=15,
             message=lambda: f"runs so far: {tab.call('page.storage', 'order')}")
    expected = sorted(range(10), key=lambda i: (-priorities[i], i))
    assert [item["i"] for item in tab.call("page.storage", "order")] == expected
    # One at a time in the queue: each job started after the previous one finished.
    done = sorted(jobs_named(tab, "record"), key=lambda job: job["started_at"])
    for before, after in zip(done, done[1:]):
        assert after["started_at"] >= before["finished_at"], (before, after)


def test_slow_job_in_one_queue_does_not_hold_back_another_queue(tabs, queue_name):
    """Given a 2 s job running in queue "a"
    When 5 quick jobs are enqueued in queue "b"
    Then all 5 complete while the slow job is still running."""
    tab = open_leader(tabs, queue_name)
    slow = tab.call("enqueue", "sleep", {"seconds": 2, "tag": "slow"}, queue="a")
    wait_for(lambda: status(tab, slow["id"]) == "processing", timeout=10)

    quick = [tab.call("enqueue", "echo", {"i": i}, queue="b") for i in range(5)]
    finished = [tab.call("wait", job["id"], timeout=10) for job in quick]

    assert [job["status"] for job in finished] == ["completed"] * 5
    assert status(tab, slow["id"]) == "processing"
    slow_done = tab.call("wait", slow["id"], timeout=10)
    assert slow_done["status"] == "completed"
    for job in finished:
        assert job["finished_at"] < slow_done["finished_at"], (job, slow_done)


def test_delayed_job_starts_after_its_delay_and_not_much_later(tabs, queue_name):
    """Given a leader tab
    When a job is enqueued with delay=1.5
    Then it starts no earlier than 1.5 s after the enqueue call and within 0.5 s after."""
    tab = open_leader(tabs, queue_name)
    before = page_now(tab)
    job = tab.call("enqueue", "echo", {"x": 1}, delay=1.5)

    done = tab.call("wait", job["id"], timeout=10)

    assert done["status"] == "completed"
    assert done["started_at"] - before >= 1.5, done  # the call began at `before`
    assert done["started_at"] >= done["run_at"], done
    assert done["started_at"] - done["created_at"] <= 2.0, done


def test_job_past_run_at_plus_ttl_expires_as_failed_or_cancelled(tabs, queue_name):
    """Given a leader tab
    When jobs are enqueued whose run_at + ttl already lies in the past, one with the
    default on_expire and one with on_expire="cancel"
    Then neither runs: the first ends failed, the second cancelled, both with code expired."""
    tab = open_leader(tabs, queue_name)
    now = page_now(tab)
    failing = tab.call("enqueue", "record", {"which": "fail"}, run_at=now - 10, ttl=5)
    cancelling = tab.call("enqueue", "record", {"which": "cancel"}, run_at=now - 10, ttl=5,
                          on_expire="cancel")

    failed = tab.call("wait", failing["id"], timeout=10)
    cancelled = tab.call("wait", cancelling["id"], timeout=10)

    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "expired"
    assert cancelled["status"] == "cancelled"
    assert cancelled["error"]["code"] == "expired"
    for job in (failed, cancelled):
        assert job["attempts"] == 0 and job["started_at"] is None, job
    assert tab.call("page.storage", "order") is None  # the handler never ran


def test_job_stuck_behind_a_long_job_expires_while_waiting(tabs, queue_name):
    """Given a 3 s job running in queue "slow"
    When a job with ttl=0.5 is enqueued in the same queue
    Then it ends expired (failed) while the long job is still running: expiry is swept,
    not only checked when the job would start."""
    tab = open_leader(tabs, queue_name)
    blocker = tab.call("enqueue", "sleep", {"seconds": 3, "tag": "blocker"}, queue="slow")
    wait_for(lambda: status(tab, blocker["id"]) == "processing", timeout=10)

    stuck = tab.call("enqueue", "echo", {"x": 1}, queue="slow", ttl=0.5)
    gone = tab.call("wait", stuck["id"], timeout=2.5)

    assert gone["status"] == "failed"
    assert gone["error"]["code"] == "expired"
    assert gone["started_at"] is None
    assert gone["finished_at"] >= stuck["run_at"] + 0.5, gone
    assert status(tab, blocker["id"]) == "processing"


def test_every_declared_in_three_tabs_keeps_one_schedule(tabs, queue_name):
    """Given 3 tabs of one queue
    When each declares every("count", 1.0)
    Then it runs 3 to 4 times in the first 3.5 s (one schedule, not three), and after
    unschedule it runs no more."""
    tab_list = [open_leader(tabs, queue_name)] + [tabs.open(queue=queue_name) for _ in range(2)]
    for tab in tab_list:
        tab.call("every", "count", 1.0, payload={"tag": "tick"})
    first = tab_list[0]
    t0 = min(job["run_at"] for job in jobs_named(first, "count"))  # the schedule's creation

    # Let 3.5 s of schedule pass (plus a moment for a claim at the edge to commit).
    wait_for(lambda: page_now(first) >= t0 + 3.7, timeout=10)
    started = [job for job in jobs_named(first, "count")
               if job["started_at"] is not None and job["started_at"] <= t0 + 3.5]
    assert 3 <= len(started) <= 4, started

    assert tab_list[2].call("unschedule", "count") is True

    def settled():
        live = [j for j in jobs_named(first, "count") if j["status"] in ("pending", "processing")]
        return not live
    wait_for(settled, timeout=5, message="a count run stayed pending after unschedule")
    runs = len(first.call("page.storage", "runs"))
    time.sleep(1.5)  # 1.5 periods in which a schedule that still existed would run again
    assert len(first.call("page.storage", "runs")) == runs
    assert not [j for j in jobs_named(first, "count") if j["status"] == "pending"]
    assert tab_list[1].call("unschedule", "count") is False


def test_runs_missed_while_all_tabs_were_closed_collapse_into_one(tabs, queue_name):
    """Given every("count", 1.0) running in the only tab
    When that tab is closed for about 5 periods and a tab is opened again
    Then exactly one catch-up run is made for the missed runs, and the schedule goes on
    every 1.0 s after it."""
    tab = open_leader(tabs, queue_name)
    tab.call("every", "count", 1.0, payload={"tag": "tick"})
    wait_for(lambda: len([j for j in jobs_named(tab, "count")
                          if j["status"] == "completed"]) >= 2, timeout=10)
    closed_at = page_now(tab)
    tab.close()

    time.sleep(5.0)  # the point of the test: five periods pass with no tab open

    tab = open_leader(tabs, queue_name)

    def after_reopen():
        # Nothing can start while no tab is open: these started after the reopen.
        return [j for j in jobs_named(tab, "count")
                if j["started_at"] is not None and j["started_at"] > closed_at + 2.5]
    wait_for(lambda: len(after_reopen()) >= 3, timeout=10,
             message=lambda: f"runs after reopening: {after_reopen()}")
    runs = sorted(after_reopen(), key=lambda job: job["started_at"])
    catch_up = [j for j in runs if j["run_at"] <= closed_at + 5.0]  # due while closed
    assert len(catch_up) == 1, runs
    assert runs[0] is catch_up[0]
    later = [job["run_at"] for job in runs[1:]]
    assert later[0] > closed_at + 5.0
    for before, after in zip(later, later[1:]):
        assert abs(after - before - 1.0) < 0.01, later  # back on the 1.0 s grid


def test_pause_survives_a_reload_and_is_seen_by_another_tab(tabs, queue_name):
    """Given a tab that pauses queue "default"
    When another tab opens and the first one reloads
    Then both report it paused, a job enqueued there does not run, and it runs once
    the other tab resumes the queue."""
    first = open_leader(tabs, queue_name)
    first.call("pause", "default")
    second = tabs.open(queue=queue_name)
    assert second.call("paused") == ["default"]

    first.reload()

    assert first.call("paused") == ["default"]
    job = first.call("enqueue", "echo", {"x": 1})
    time.sleep(0.8)  # time in which an unpaused queue would have run the job
    assert status(first, job["id"]) == "pending"
    second.call("resume", "default")
    assert first.call("wait", job["id"], timeout=10)["status"] == "completed"
    assert first.call("paused") == [] and second.call("paused") == []


def test_cancel_pending_and_processing_jobs(tabs, queue_name):
    """Given a 1.5 s job processing and a job pending behind it in the same queue
    When both are cancelled
    Then both end cancelled (code cancelled), the pending one never runs, and the
    processing one stays cancelled after its handler finishes: its outcome is discarded."""
    tab = open_leader(tabs, queue_name)
    running = tab.call("enqueue", "sleep", {"seconds": 1.5, "tag": "c"})
    wait_for(lambda: status(tab, running["id"]) == "processing", timeout=10)
    waiting = tab.call("enqueue", "record", {"x": 1})
    assert status(tab, waiting["id"]) == "pending"

    cancelled_waiting = tab.call("cancel", waiting["id"])
    cancelled_running = tab.call("cancel", running["id"])

    for job in (cancelled_waiting, cancelled_running):
        assert job["status"] == "cancelled"
        assert job["error"]["code"] == "cancelled"
    wait_for(lambda: tab.call("page.storage", "finish:c") == 1, timeout=10,
             message="the sleep handler never finished")
    time.sleep(0.3)  # the handler has returned: time in which its outcome would be stored
    after = tab.call("get", running["id"])
    assert after["status"] == "cancelled", after
    assert after["result"] is None and after["error"]["code"] == "cancelled"
    assert after["finished_at"] == cancelled_running["finished_at"]
    assert tab.call("wait", running["id"], timeout=5)["status"] == "cancelled"
    assert tab.call("get", waiting["id"])["started_at"] is None
    assert tab.call("page.storage", "order") is None  # the pending job never ran
    completed = [e for e in tab.events()
                 if e["event"] == "completed" and e["data"]["id"] == running["id"]]
    assert completed == []
