"""One tab: the job lifecycle in real Chromium with the real IndexedDB (foundation issue).

Every test uses its own queue name, so they share one browser. Retry backoff is made
short through the page's JobQueue options so that retries do not slow the suite.
"""

import json

import pytest

from harness import PageError, wait_for

FAST = {"backoff": 0.05, "backoff_max": 0.2}


def finished(tab, job_id, timeout=15):
    """Wait for a job through the page's own ``jobs.wait``."""
    return tab.call("wait", job_id, timeout=timeout)


def test_twenty_jobs_enqueued_from_page_code_all_complete(tabs, queue_name):
    """Given a started queue, When 20 jobs are enqueued from page code,
    Then all 20 complete, each with its own result, and counts say so."""
    tab = tabs.open(queue=queue_name)
    ids = [tab.call("enqueue", "echo", {"n": n})["id"] for n in range(20)]

    results = [finished(tab, job_id) for job_id in ids]

    assert [job["status"] for job in results] == ["completed"] * 20
    assert [job["result"] for job in results] == [{"n": n} for n in range(20)]
    assert tab.call("counts")["completed"] == 20


def test_a_handler_failing_twice_completes_on_attempt_three(tabs, queue_name):
    """Given a handler that fails on attempts 1 and 2, When its job runs with retries=3,
    Then it completes on attempt 3 and `retrying` was emitted twice."""
    tab = tabs.open(queue=queue_name, opts=FAST)
    job = tab.call("enqueue", "flaky", {"succeed_on": 3}, retries=3)

    done = finished(tab, job["id"])

    assert done["status"] == "completed"
    assert done["attempts"] == 3
    assert done["result"] == {"attempt": 3}
    assert done["error"] is None
    retries = [e for e in tab.events() if e["event"] == "retrying"
               and e["data"]["id"] == job["id"]]
    assert len(retries) == 2
    assert retries[0]["data"]["error"]["code"] == "handler_error"


def test_an_always_failing_job_fails_after_all_attempts_and_can_be_redriven(tabs, queue_name):
    """Given a handler that always raises and retries=2,
    When its job runs, Then it ends failed with handler_error after 3 attempts, the
    message has the exception type and text, and list(status="failed") has it;
    When it is redriven, Then it runs 3 attempts again and fails again."""
    tab = tabs.open(queue=queue_name, opts=FAST)
    job = tab.call("enqueue", "fail", "x", retries=2)

    done = finished(tab, job["id"])

    assert done["status"] == "failed"
    assert done["attempts"] == 3 and done["max_attempts"] == 3
    assert done["error"] == {"code": "handler_error", "message": "ValueError: always fails: x"}
    assert [j["id"] for j in tab.call("list", status="failed")] == [job["id"]]

    again = tab.call("redrive", job["id"])
    assert again["status"] == "pending" and again["attempts"] == 0
    redone = finished(tab, job["id"])
    assert redone["status"] == "failed" and redone["attempts"] == 3
    assert tab.call("redrive_failed") == 1
    assert finished(tab, job["id"])["attempts"] == 3


def test_a_reload_while_jobs_wait_loses_nothing(tabs, queue_name, request):
    """Given 5 jobs due in 1.5 s, When the only tab reloads before they are due,
    Then after the reload all 5 run and complete."""
    tab = tabs.open(queue=queue_name)
    ids = [tab.call("enqueue", "count", {"tag": f"r{n}"}, delay=1.5)["id"] for n in range(5)]

    tab.reload()

    results = [finished(tab, job_id) for job_id in ids]
    assert all(job["status"] == "completed" for job in results)
    runs = tab.call("page.storage", "runs")
    assert sorted(run["tag"] for run in runs) == [f"r{n}" for n in range(5)]


def test_closing_the_tab_mid_job_reruns_it_with_the_attempt_counted(tabs, queue_name):
    """Given a job processing in the only tab,
    When that tab is closed and the page is opened again,
    Then the job is run again, as attempt 2, and completes."""
    first = tabs.open(queue=queue_name)
    job = first.call("enqueue", "sleep", {"seconds": 30, "tag": "long"})
    wait_for(lambda: first.call("get", job["id"])["status"] == "processing")

    first.close()
    second = tabs.open(queue=queue_name)

    def restarted():
        runs = second.call("page.storage", "runs") or []
        return [run for run in runs if run["tag"] == "long"]
    runs = wait_for(lambda: len(restarted()) == 2 and restarted(), timeout=10)
    assert [run["attempt"] for run in runs] == [1, 2]
    current = second.call("get", job["id"])
    assert current["status"] == "processing" and current["attempts"] == 2
    assert current["error"]["code"] == "interrupted"
    second.call("cancel", job["id"])  # no need to sit through 30 s


def test_a_payload_holding_a_set_raises_type_error_and_stores_nothing(tabs, queue_name):
    """Given a started queue, When a job is enqueued with a set in its payload,
    Then TypeError is raised in the page and no job was stored."""
    tab = tabs.open(queue=queue_name)

    with pytest.raises(PageError) as err:
        tab.call("enqueue", "echo", {"tags": {"__set__": [1, 2]}})

    assert err.value.type == "TypeError"
    assert "set" in err.value.message
    assert sum(tab.call("counts").values()) == 0


@pytest.mark.parametrize("kwargs, error", [
    ({"delay": 1, "run_at": 5.0}, "ValueError"),
    ({"on_expire": "explode"}, "ValueError"),
    ({"priority": "high"}, "TypeError"),
    ({"ttl": -1}, "ValueError"),
])
def test_bad_enqueue_options_raise_before_anything_is_written(tabs, queue_name, kwargs,
                                                             error):
    """Given a started queue, When enqueue gets an invalid option,
    Then it raises the documented exception and stores nothing.

    It raises right after the tab opened, while the election may still be in flight:
    before brython_jobs/await_fix.py that sometimes resumed the election's coroutine in
    the failing call's frame in WebKit (the console then fails the test)."""
    tab = tabs.open(queue=queue_name)
    with pytest.raises(PageError) as err:
        tab.call("enqueue", "echo", None, **kwargs)
    assert err.value.type == error
    assert sum(tab.call("counts").values()) == 0
    wait_for(lambda: tab.call("page.state")["is_leader"], timeout=10,
             message="the tab never led: its election broke")


def test_an_unknown_handler_name_fails_at_once_with_no_handler(tabs, queue_name):
    """Given no handler named "nobody", When such a job is enqueued,
    Then it fails after one attempt with code no_handler."""
    tab = tabs.open(queue=queue_name)
    job = tab.call("enqueue", "nobody", None, retries=3)

    done = finished(tab, job["id"])

    assert done["status"] == "failed"
    assert done["attempts"] == 1
    assert done["error"]["code"] == "no_handler"


def test_a_result_that_is_not_json_like_fails_the_attempt(tabs, queue_name):
    """Given a handler returning a set, When its job runs with retries=0,
    Then the job fails with handler_error naming the problem."""
    tab = tabs.open(queue=queue_name)
    done = finished(tab, tab.call("enqueue", "bad_result", None, retries=0)["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "handler_error"
    assert "TypeError" in done["error"]["message"]


def test_wait_returns_the_finished_job_and_reports_timeouts_and_unknown_ids(tabs, queue_name):
    """Given a job that sleeps 0.5 s, When we wait on it, Then wait returns it completed;
    a short timeout on a long job raises TimeoutError; an unknown id raises KeyError."""
    tab = tabs.open(queue=queue_name)
    job = tab.call("enqueue", "sleep", {"seconds": 0.5, "tag": "w"}, queue="a")
    assert finished(tab, job["id"])["result"]["slept"] == 0.5

    slow = tab.call("enqueue", "sleep", {"seconds": 30, "tag": "slow"}, queue="b")
    with pytest.raises(PageError) as err:
        tab.call("wait", slow["id"], timeout=0.3)
    assert err.value.type == "TimeoutError"
    for method in ("wait", "cancel", "redrive"):
        with pytest.raises(PageError) as err:
            tab.call(method, "no-such-job")
        assert err.value.type == "KeyError"
    tab.call("cancel", slow["id"])


def test_progress_is_stored_and_emitted(tabs, queue_name):
    """Given a handler reporting progress in 4 steps, When its job runs,
    Then 4 progress events arrive in order and the job keeps the last progress."""
    tab = tabs.open(queue=queue_name)
    job = tab.call("enqueue", "progress", {"steps": 4})
    done = finished(tab, job["id"])

    fractions = [e["data"]["progress"]["fraction"] for e in tab.events()
                 if e["event"] == "progress" and e["data"]["id"] == job["id"]]
    assert fractions == [0.25, 0.5, 0.75, 1.0]
    assert done["progress"] == {"fraction": 1.0, "message": "step 4 of 4"}


def test_a_key_returns_the_pending_job_instead_of_a_new_one(tabs, queue_name):
    """Given a delayed pending job with key "k", When another job with key "k" is
    enqueued, Then the first job is returned and only one is stored."""
    tab = tabs.open(queue=queue_name)
    first = tab.call("enqueue", "echo", 1, key="k", delay=30)
    second = tab.call("enqueue", "echo", 2, key="k")
    assert second["id"] == first["id"] and second["payload"] == 1
    assert tab.call("counts")["pending"] == 1


def test_completed_jobs_are_deleted_after_keep_completed(tabs, queue_name):
    """Given keep_completed=1.0, When a job completes,
    Then it is gone within a few seconds, while a failed job is kept."""
    tab = tabs.open(queue=queue_name, opts={"keep_completed": 1.0, **FAST})
    done = finished(tab, tab.call("enqueue", "echo", None)["id"])
    failed = finished(tab, tab.call("enqueue", "fail", None, retries=0)["id"])
    assert done["status"] == "completed" and failed["status"] == "failed"

    wait_for(lambda: tab.call("get", done["id"]) is None, timeout=6,
             message="the completed job was not deleted")
    assert tab.call("get", failed["id"])["status"] == "failed"


def test_the_script_tag_bundle_runs_jobs_too(tabs, queue_name):
    """Given the package loaded from the make_package bundle, When a job is enqueued,
    Then it completes, with no request for a package module."""
    tab = tabs.open(queue=queue_name, bundle=True)
    job = tab.call("enqueue", "echo", {"via": "bundle"})
    assert finished(tab, job["id"])["result"] == {"via": "bundle"}
    fetched = tab.js("return performance.getEntriesByType('resource').map(e => e.name)")
    assert not [url for url in fetched if "/brython_jobs/" in url]


def test_the_store_contract_holds_for_indexeddb(tabs):
    """Given the store contract suite (also run against MemoryStore under CPython),
    When it runs in the page against the IndexedDB store,
    Then every check passes."""
    tab = tabs.open("/tests/pages/contract.html")
    raw = wait_for(lambda: tab.js("return window.bjContract || null"), timeout=60)
    summary = json.loads(raw)
    assert "error" not in summary, summary.get("error")
    assert summary["failed"] == [], [r for r in summary["results"] if not r["ok"]]
    assert summary["passed"] >= 20


def test_an_upgrade_from_another_tab_closes_this_connection(tabs, queue_name):
    """Given a started queue, When another connection opens the database at a newer
    version, Then the upgrade is not blocked: this tab closes its connection, emits
    `closed` and stops."""
    tab = tabs.open(queue=queue_name)
    tab.js("""
        window.bjUpgrade = "pending";
        const req = indexedDB.open(arguments[0], 2);
        req.onsuccess = () => { window.bjUpgrade = "opened"; req.result.close(); };
        req.onblocked = () => { window.bjUpgrade = "blocked"; };
        req.onerror = () => { window.bjUpgrade = "error"; };
    """, "brython_jobs." + queue_name)

    wait_for(lambda: tab.js("return window.bjUpgrade") == "opened", timeout=10)
    assert "closed" in [e["event"] for e in tab.events()]
    assert tab.call("page.state")["started"] is False


def test_a_transaction_awaited_after_it_committed_still_reports_its_commit(tabs, queue_name):
    """Given a readwrite transaction that writes nothing (as a purge with nothing to
    delete), When its read settles, it commits, and only then is its commit awaited,
    Then the await still resolves: a missed ``complete`` event once stopped Firefox's
    dispatch loop for good (the leader's purge never returned)."""
    tab = tabs.open(queue=queue_name)
    assert tab.call("page.done_after_commit", f"{queue_name}_tx") == "committed"
