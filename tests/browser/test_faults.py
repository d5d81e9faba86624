"""Real faults in a real browser: a crashed renderer, a killed browser, a full disk, a
schema upgrade under an open tab, IndexedDB refused (issue 14).

Every run a handler makes is counted in the test server's run log (tools/serve.py), a
place outside the browser, so the counts survive the faults themselves. Chromium only:
each test says which other engines could do the same.
"""

import json

import pytest

import faults_support as fs
import harness
from fault_fixtures import PAGE, fault_browser, finish_tabs, leader_of, tabs_on  # noqa: F401


@pytest.fixture
def tabs(fault_browser, server):
    """Tabs on this module's own Chromium (the conftest's ``tabs`` name, so the suite's
    console check after each test applies)."""
    factory = tabs_on(fault_browser.driver, server, fault_browser.base_handle)
    yield factory
    finish_tabs(factory)


def runs(log, job_id, kind="run"):
    return [r for r in log.records(kind) if r.get("id") == job_id]


def test_run_log_survives_a_renderer_crash(tabs, server, queue_name):
    """The place the fault tests count runs in must outlive the fault.

    Given a tab that wrote a marker to the run log, when its renderer crashes, then the
    marker is still there (read from the server), and a new tab can append after it.
    Other engines: any (the log is outside the browser); the crash needs CDP (Chromium).
    """
    log = fs.RunLog(server, queue_name)
    tab = tabs.open(PAGE, queue=queue_name)
    tab.call("page.log", "marker", n=1)
    fs.crash(tab)
    other = tabs.open(PAGE, queue=queue_name)
    other.call("page.log", "marker", n=2)
    assert [r["n"] for r in log.records("marker")] == [1, 2]


def test_renderer_crash_of_the_leader_reruns_its_job_in_another_tab(tabs, server,
                                                                     queue_name):
    """Given two tabs and a job running in the leader, when the leader's renderer
    crashes (CDP Page.crash), then the other tab leads within a second and reruns the
    job, attempt 2, to completion; it ran exactly twice.

    Fails on a queue without failover/recovery: the job stays ``processing`` forever
    (checked by disabling ``recover`` in become_leader: the wait times out).
    Other engines: Firefox and WebKit have no Page.crash through WebDriver: skipped.
    """
    log = fs.RunLog(server, queue_name)
    first = tabs.open(PAGE, queue=queue_name)
    second = tabs.open(PAGE, queue=queue_name)
    leader = leader_of([first, second])
    other = second if leader is first else first
    job = other.call("enqueue", "work", {"seconds": 30, "tag": "victim"})
    fs.wait(lambda: runs(log, job["id"]), timeout=15, message="the job never started")

    crashed_at = fs.now()
    fs.crash(leader)
    fs.wait(lambda: other.call("page.state")["is_leader"], timeout=5,
            message="the other tab never took over")
    took_over = fs.now() - crashed_at
    assert took_over < 1.0, f"the other tab led {took_over:.2f} s after the crash"

    # The rerun sleeps 30 s too: judge the rerun by its start, then cancel it.
    fs.wait(lambda: len(runs(log, job["id"])) == 2, timeout=5,
            message="the job was not rerun")
    attempts = [r["attempt"] for r in runs(log, job["id"])]
    assert attempts == [1, 2]
    assert runs(log, job["id"])[1]["tab"] == other.call("page.state")["tab"]
    rec = other.call("get", job["id"])
    assert rec["status"] == "processing" and rec["attempts"] == 2


def test_renderer_crash_mid_job_completes_on_rerun(tabs, server, queue_name):
    """Given a short job running in the leader, when the leader crashes mid-job, then the
    new leader runs it again and it completes with attempts 2 and the new tab's result;
    a job queued behind it runs once. (Chromium only, as above.)"""
    log = fs.RunLog(server, queue_name)
    first = tabs.open(PAGE, queue=queue_name)
    second = tabs.open(PAGE, queue=queue_name)
    leader = leader_of([first, second])
    other = second if leader is first else first
    job = other.call("enqueue", "work", {"seconds": 1.5})
    behind = other.call("enqueue", "work", {"tag": "behind"})
    fs.wait(lambda: runs(log, job["id"]), timeout=15, message="the job never started")
    fs.crash(leader)
    done = other.call("wait", job["id"], timeout=20)
    assert done["status"] == "completed" and done["attempts"] == 2
    assert done["result"] == {"tab": other.call("page.state")["tab"], "attempt": 2}
    assert other.call("wait", behind["id"], timeout=20)["status"] == "completed"
    assert len(runs(log, behind["id"])) == 1
    assert [r["attempt"] for r in runs(log, job["id"])] == [1, 2]
    assert len(runs(log, job["id"], "end")) == 1


def test_browser_killed_mid_job_reruns_on_the_same_profile(server, queue_name, tmp_path):
    """Given a browser whose leader tab runs a job, with a completed job and a delayed
    pending job beside it, when the whole browser process tree is SIGKILLed (pids found
    below the chromedriver this test started) and a new browser opens the page on the same
    profile, then the job runs again with attempt 2 and completes, and the other two jobs
    are exactly as they were, as is a job enqueued just before the kill.

    Fails on a queue whose new leader does not recover ``processing`` jobs (checked by
    disabling the recovery in become_leader: the job stays processing, the wait times out).
    Other engines: Firefox could (geckodriver's child process tree, same profile);
    WebKitWebDriver starts the browser in a way this helper does not follow: not tried.
    """
    log = fs.RunLog(server, queue_name)
    profile = tmp_path / "profile"
    browser = fs.Browser(profile)
    try:
        tabs = tabs_on(browser.driver, server, browser.base_handle)
        tab = tabs.open(PAGE, queue=queue_name)
        fs.wait(lambda: tab.call("page.state")["is_leader"], timeout=15)
        before = tab.call("enqueue", "work", {"tag": "before"})
        before = tab.call("wait", before["id"], timeout=20)
        later = tab.call("enqueue", "work", {"tag": "later"}, delay=3600)
        victim = tab.call("enqueue", "work", {"seconds": 60, "slow_attempts": 1,
                                              "tag": "victim"})
        fs.wait(lambda: runs(log, victim["id"]), timeout=15, message="never started")
        assert tab.call("get", victim["id"])["status"] == "processing"
        assert not tabs.collect_errors()
        # Enqueued just before the kill: durable once the call returned.
        last = tab.call("enqueue", "work", {"tag": "last"}, delay=3600)

        killed = browser.kill()
        assert killed and not any(fs._alive(pid) for pid in killed)

        browser.start()  # a new browser, same profile
        tabs = tabs_on(browser.driver, server, browser.base_handle)
        tab = tabs.open(PAGE, queue=queue_name)
        done = tab.call("wait", victim["id"], timeout=40)
        assert done["status"] == "completed"
        assert done["attempts"] == 2
        assert done["result"] == {"tab": tab.call("page.state")["tab"], "attempt": 2}
        assert [r["attempt"] for r in runs(log, victim["id"])] == [1, 2]
        assert tab.call("get", before["id"]) == before
        assert tab.call("get", later["id"]) == later
        assert tab.call("get", last["id"]) == last
        assert len(runs(log, before["id"])) == 1 and not runs(log, later["id"])
        assert tab.call("counts")["processing"] == 0
        finish_tabs(tabs)
    finally:
        browser.quit()


BIG = 4 * 1024 * 1024      # a payload or result that cannot fit
HEADROOM = 1024 * 1024     # the quota is set this far above the current usage


def test_storage_full_enqueue_raises_handler_result_fails_and_space_returns(
        tabs, server, queue_name, fault_browser):
    """Given a quota just above the origin's usage (CDP Storage.overrideQuotaForOrigin,
    trusted only once a probe write is refused):
    when a 4 MB payload is enqueued, then StorageFull (a StorageError, name
    QuotaExceededError) is raised and nothing is written;
    when a handler returns a 4 MB result, then each attempt fails with code storage_full,
    the job ends failed (retries=1) and the next job runs;
    when the quota is lifted, then the big enqueue works and the redriven job completes.

    Fails on the old queue: enqueue raised a plain StorageError (type check), and a
    result that did not fit left its job processing for good (the wait times out; checked
    by disabling the storage_full branch in outcomes.py).
    Other engines: the quota override is CDP only (Chromium); Firefox could fill a small
    profile quota with dom.quotaManager prefs: not tried.
    """
    driver = fault_browser.driver
    log = fs.RunLog(server, queue_name)
    # Under the tight quota a dispatch pass may fail with StorageFull and is retried
    # (dispatcher.py reports each failure at error level); the assertions below show
    # the queue goes on. Seen in some runs only, after the dispatcher's retry landed.
    tabs.allow_errors("StorageFull: transaction aborted: QuotaExceededError")
    tab = tabs.open(PAGE, queue=queue_name, opts={"retries": 1, "backoff": 0})
    fs.wait(lambda: tab.call("page.state")["is_leader"], timeout=15)
    warm = tab.call("enqueue", "work", {"tag": "warm"})
    tab.call("wait", warm["id"], timeout=20)
    try:
        assert fs.tight_quota(tab, server, HEADROOM, 2 * HEADROOM) == "QuotaExceededError"

        # Enqueue of a payload that does not fit: a clear, specific error, no write.
        counts = tab.call("counts")
        out = tab.call("page.enqueue_big", BIG)
        assert out["error"] == "StorageFull", out
        assert out["name"] == "QuotaExceededError", out
        assert "QuotaExceededError" in out["message"]
        assert tab.call("counts") == counts

        # A result that does not fit: the attempt fails with storage_full, the queue
        # goes on to the next job.
        big = tab.call("enqueue", "big_result", {"bytes": BIG})
        after = tab.call("enqueue", "work", {"tag": "after"})
        failed = tab.call("wait", big["id"], timeout=30)
        assert failed["status"] == "failed", failed
        assert failed["error"]["code"] == "storage_full", failed
        assert "QuotaExceededError" in failed["error"]["message"]
        assert failed["attempts"] == 2 and failed["result"] is None
        assert len(runs(log, big["id"])) == 2
        assert tab.call("wait", after["id"], timeout=20)["status"] == "completed"
        assert tab.call("page.state")["is_leader"]
    finally:
        fs.set_quota(driver, server, None)
        tab.call("page.clear_probe")

    # Space is back: everything works again.
    fs.probe_until_accepted(tab, 2 * HEADROOM)
    out = tab.call("page.enqueue_big", BIG)
    assert "id" in out, out
    assert tab.call("wait", out["id"], timeout=30)["status"] == "completed"
    tab.call("redrive", big["id"])
    again = tab.call("wait", big["id"], timeout=30)
    assert again["status"] == "completed" and len(again["result"]) == BIG


def test_schema_upgrade_closes_the_old_tab_and_the_new_tab_runs_the_waiting_jobs(
        tabs, server, queue_name):
    """Given an old tab leading, one job running in it and three waiting behind it, when
    a page opens the database at the next schema version (as a newer release would),
    then the old tab closes its connection, emits ``closed``, stops leading and writes
    nothing more (its running job's late end changes nothing), and the new tab leads,
    reruns the interrupted job and runs the waiting ones.

    Fails on a queue that keeps its connection open on versionchange (checked by
    removing db.close() in idb.open_db: the new tab is blocked and never starts).
    Other engines: Firefox and WebKit fire versionchange the same way; not tried here.
    """
    log = fs.RunLog(server, queue_name)
    old = tabs.open(PAGE, queue=queue_name)
    fs.wait(lambda: old.call("page.state")["is_leader"], timeout=15)
    running = old.call("enqueue", "work", {"seconds": 2, "slow_attempts": 1})
    waiting = [old.call("enqueue", "work", {"n": i}) for i in range(3)]
    fs.wait(lambda: runs(log, running["id"]), timeout=15, message="never started")
    old_id = old.call("page.state")["tab"]

    new = tabs.open(PAGE, queue=queue_name, version=2)
    fs.wait(lambda: new.call("page.state")["is_leader"], timeout=10,
            message="the upgraded tab never led")
    assert [e["event"] for e in old.events()].count("closed") == 1
    assert old.call("page.state") == {"is_leader": False, "tab": old_id, "started": False}
    with pytest.raises(harness.PageError) as refused:
        old.call("enqueue", "work", {"n": "late"})
    assert refused.value.type == "RuntimeError"

    new_id = new.call("page.state")["tab"]
    for job in waiting:
        done = new.call("wait", job["id"], timeout=20)
        assert done["status"] == "completed" and done["result"]["tab"] == new_id
    rerun = new.call("wait", running["id"], timeout=20)
    assert rerun["attempts"] == 2 and rerun["result"] == {"tab": new_id, "attempt": 2}
    # The old tab's handler ends later; its outcome is not written.
    fs.wait(lambda: [r for r in runs(log, running["id"], "end") if r["tab"] == old_id],
            timeout=10, message="the old tab's handler never ended")
    assert new.call("get", running["id"]) == rerun
    assert [r["id"] for r in log.records("run") if r["tab"] == old_id] == [running["id"]]
    dbs = new.driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "indexedDB.databases().then(function (d) { done(d.map(function (x) {"
        " return [x.name, x.version]; })); });")
    assert [f"brython_jobs.{queue_name}", 2] in dbs


def test_indexeddb_refused_start_raises_storage_unavailable(server, queue_name, tmp_path):
    """Given a Chromium whose settings block site data for every site (the content
    setting a user sets under "Cookies and site data"; the browser then refuses
    indexedDB.open with UnknownError), when a page calls ``start()``, then it raises
    StorageUnavailable naming the browser's cause within seconds instead of hanging,
    and the queue is not started.

    Fails on the old mapping (UnknownError not treated as unavailable: a plain
    StorageError, checked by removing it from idb.UNAVAILABLE_NAMES) and on an open that
    never settles (the call times out).
    Other engines: Firefox has the same setting (network.cookie.cookieBehavior=2) and
    WebKit none through WebDriver: not tried.
    """
    blocked = {"profile.default_content_setting_values.cookies": 2}
    browser = fs.Browser(tmp_path / "profile", prefs=blocked)
    try:
        browser.driver.set_script_timeout(15)  # a hang fails fast
        tabs = tabs_on(browser.driver, server, browser.base_handle)
        tab = tabs.open(PAGE, queue=queue_name, start=0)
        began = fs.now()
        with pytest.raises(harness.PageError) as refused:
            tab.call("start")
        assert fs.now() - began < 10
        assert refused.value.type == "StorageUnavailable"
        assert "UnknownError" in refused.value.message
        assert "denied permission" in refused.value.message
        assert tab.call("page.state")["started"] is False
        with pytest.raises(harness.PageError) as not_started:
            tab.call("enqueue", "work", {"n": 1})
        assert not_started.value.type == "RuntimeError"
        finish_tabs(tabs)
    finally:
        browser.quit()


def test_indexeddb_denied_in_an_opaque_origin_start_raises_storage_unavailable(
        fault_browser, server):
    """Given a page in a sandboxed iframe (an opaque origin, where every engine refuses
    IndexedDB: indexedDB.open throws SecurityError at once), when it calls ``start()``,
    then StorageUnavailable is raised with name SecurityError and the browser's text,
    within a second, and the queue is not started.

    Fails on the old code: the thrown SecurityError reached Python with its message only,
    so the error's name was None (seen before the idb.py fix).
    Other engines: Firefox and WebKit refuse IndexedDB in opaque origins too (the page
    would run there unchanged); not run here.
    """
    driver = fault_browser.driver
    tabs = tabs_on(driver, server, fault_browser.base_handle)
    driver.switch_to.new_window("tab")
    driver.get(server + "/tests/pages/opaque.html")
    raw = fs.wait(lambda: driver.execute_script("return window.bjOutcome"), timeout=30,
                  message="the sandboxed frame never reported")
    out = json.loads(raw)
    driver.close()
    tabs.park()
    assert out["type"] == "StorageUnavailable", out
    assert out["name"] == "SecurityError", out
    assert "denied" in out["message"] and out["started"] is False
    assert out["ms"] < 1000, out
    finish_tabs(tabs)
