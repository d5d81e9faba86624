"""Regression tests for store calls that fail or never settle (stall.py): a lone leader tab
must not lead a queue that silently stopped, nor leave a job ``processing``.

A transaction the browser never completes is what Firefox did to the leader before
``idb.watch`` (a missed ``complete`` event); nothing in the browser promises it cannot
happen again. The simulator's store hangs exactly the call each story names: nothing of
it runs and it never settles. Given/When/Then in each docstring.
"""

from tests.sim.test_findings_dispatch import Sim, enqueue, follower, handlers, one_leader


def hang_once(tab, matches):
    """Make the next call of ``tab``'s store for which ``matches(op, detail)`` hang."""
    state = {"left": 1}

    def rule(op, detail):
        if state["left"] and matches(op, detail):
            state["left"] -= 1
            return True
        return False
    tab["store"].hangs.append(rule)
    return state


def stall_reports(tab):
    return [exc for where, exc in tab["rt"].reports
            if where == "dispatch" and getattr(exc, "name", None) == "Stalled"]


def test_a_dispatch_pass_that_never_settles_does_not_stop_the_queue():
    """Given a lone leader tab (leader_silence 2 s) whose next full dispatch pass hangs,
    When a delayed job comes due,
    Then after 3 x leader_silence the tab reports the stall, gives leadership up, leads
    again with a new epoch and runs the job."""
    sim = Sim()
    tab = one_leader(sim, leader_silence=2.0)
    first_epoch = sim.shared.meta["leader"]["epoch"]
    hung = hang_once(tab, lambda op, detail: op == "overview")
    job = enqueue(sim, tab, delay=1.0)
    assert sim.run_until(lambda: sim.job(job.id)["status"] == "completed", 20), \
        f"the job never ran: {sim.job(job.id)['status']}"
    assert hung["left"] == 0, "the pass never hung: the story did not happen"
    assert len(stall_reports(tab)) == 1, tab["rt"].reports
    assert sim.shared.meta["leader"]["epoch"] > first_epoch


def test_an_outcome_write_that_never_settles_does_not_leave_the_job_processing():
    """Given a lone leader tab whose write of a finished job's outcome hangs,
    When the handler has returned,
    Then the tab reports the stall and leads afresh; the new epoch recovers the job
    (it was left processing by the old one) and runs it again to completion."""
    sim = Sim()
    tab = one_leader(sim, leader_silence=2.0)
    box = {}

    def outcome_of_the_job(op, detail):
        return op == "walk_pending" and box.get("id") in (detail.get("job_ids") or ())
    hung = hang_once(tab, outcome_of_the_job)
    job = enqueue(sim, tab, delay=0.5)
    box["id"] = job.id
    assert sim.run_until(lambda: sim.job(job.id)["status"] == "completed", 25), \
        f"the job is left {sim.job(job.id)['status']}"
    assert hung["left"] == 0, "the outcome write never hung: the story did not happen"
    assert [run[1] for run in tab["runs"]] == [1, 2], tab["runs"]
    assert len(stall_reports(tab)) == 1, tab["rt"].reports


def test_an_enqueue_holding_a_slot_that_never_settles_does_not_starve_its_queue():
    """Given a lone leader tab whose enqueue into an idle queue (which holds the queue's
    slot to claim in its own transaction) hangs,
    When the page enqueues a second job of that queue,
    Then after the stall the tab leads afresh and the second job runs (the hung enqueue
    wrote nothing, and its caller never heard it was stored)."""
    sim = Sim()
    tab = one_leader(sim, leader_silence=2.0)
    hung = hang_once(tab, lambda op, detail: op == "walk_pending"
                     and "seq" in (detail.get("meta_keys") or ()))
    first = sim.call(tab, tab["jobs"].enqueue("work", {"n": 1}))
    sim.run(0.2)
    assert hung["left"] == 0, "the first enqueue did not hang: the story did not happen"
    second = enqueue(sim, tab, {"n": 2})
    assert sim.run_until(lambda: sim.job(second.id)["status"] == "completed", 20), \
        f"the queue starved: the second job is {sim.job(second.id)['status']}"
    assert "value" not in first
    assert len(stall_reports(tab)) == 1, tab["rt"].reports


def test_a_healthy_leader_idle_for_a_long_time_reports_no_stall():
    """Given a lone leader tab with a job due in ten minutes and nothing else to do,
    When ten minutes pass (the loop sleeps between heartbeats),
    Then no stall is reported, the tab led throughout and the job runs on time."""
    sim = Sim()
    tab = one_leader(sim, leader_silence=2.0)
    job = enqueue(sim, tab, delay=600.0)
    assert sim.run_until(lambda: sim.job(job.id)["status"] == "completed", 610)
    assert stall_reports(tab) == []
    assert tab["jobs"].is_leader
    assert len(tab["runs"]) == 1


def test_an_election_whose_store_call_never_settles_does_not_keep_the_lock():
    """Given a lone tab whose write of its leader epoch hangs (the lock is granted, the
    transaction never completes),
    When it joins and a job is enqueued,
    Then after 3 x leader_silence it gives the lock up, joins again, leads and runs the
    job: it does not hold the lock forever without leading."""
    sim = Sim()
    tab = sim.open(leader_silence=2.0)
    handlers(sim, tab)
    hung = hang_once(tab, lambda op, detail: op == "atomic"
                     and detail["meta_keys"] == ("leader",))
    sim.start(tab)
    sim.run(0.5)
    assert hung["left"] == 0, "the election did not hang: the story did not happen"
    assert not tab["jobs"].is_leader
    job = enqueue(sim, tab)
    assert sim.run_until(lambda: sim.job(job.id)["status"] == "completed", 20), \
        f"no tab led: the job is {sim.job(job.id)['status']}"
    assert tab["jobs"].is_leader


def close(sim, tab):
    """The user closes ``tab``: unload, then its context, locks and channels are gone."""
    sim.sched.run_callable(tab["ctx"], lambda: tab["rt"].fire_lifecycle("unload"))
    sim.sched.kill(tab["ctx"])
    sim.origin.locks.drop(tab["ctx"])
    sim.origin.channels.drop(tab["ctx"])


def test_a_hand_over_whose_resign_never_settles_still_lets_the_lock_go():
    """Given a hidden leader tab A asked by a visible tab B to hand over, and A's write
    of its resignation hangs (FINDINGS.md S17),
    When B closes before it could lead, so A is alone,
    Then A still releases the lock (two watchdog checks a minute apart: a hidden tab's
    timers wake once a minute), queues for it again, leads and runs a job: it does not
    hold the lock for good without leading."""
    sim = Sim()
    a = one_leader(sim, leader_silence=2.0)
    b = follower(sim, leader_silence=2.0)
    hung = hang_once(a, lambda op, detail: op == "atomic" and not a["jobs"].is_leader
                     and detail["meta_keys"] == ("leader",))
    sim.hide(a)
    assert sim.run_until(lambda: hung["left"] == 0, 10), "A never handed over"
    close(sim, b)
    job = enqueue(sim, a)
    assert sim.run_until(lambda: sim.job(job.id)["status"] == "completed", 200), \
        "A kept the lock without leading"
    assert a["jobs"].is_leader


def test_a_transient_pass_failure_is_a_warning_and_a_bug_is_an_error():
    """Given a leader tab whose next dispatch pass meets a transient StorageError, and
    the pass after that a TypeError (a bug),
    When a job is enqueued,
    Then the storage error is reported as retrying (a console warning: the loop retries
    it), the TypeError as an error, and the job still runs."""
    from brython_jobs.errors import StorageError
    sim = Sim()
    tab = one_leader(sim, leader_silence=2.0)
    errors = [StorageError("simulated transient error", "UnknownError"),
              TypeError("simulated bug")]

    def fail_passes(op, detail):
        if op == "overview" and errors:
            return errors.pop(0)
        return None
    tab["store"].rules.append(fail_passes)
    job = enqueue(sim, tab, delay=0.5)
    assert sim.run_until(lambda: sim.job(job.id)["status"] == "completed", 10)
    assert errors == [], "the passes never failed: the story did not happen"
    dispatch = [(where, type(exc).__name__) for where, exc in tab["rt"].reports
                if where.startswith("dispatch")]
    assert dispatch == [("dispatch (failure 1 of 6)", "StorageError"),
                        ("dispatch (failure 2 of 6)", "TypeError")], dispatch
    assert tab["rt"].retrying == ["dispatch (failure 1 of 6)"]


def test_an_open_that_never_settles_makes_start_raise_and_a_second_start_works():
    """Given a tab whose first database open hangs (the browser never answers),
    When the page awaits start(),
    Then start() raises StorageUnavailable (name "Timeout") after its time limit instead
    of waiting forever; When the page calls start() again, Then the queue opens, leads
    and runs a job."""
    from brython_jobs.errors import StorageUnavailable
    try:
        from brython_jobs.jobqueue import OPEN_TIMEOUT
    except ImportError:  # a core without the limit: the story shows what it does
        OPEN_TIMEOUT = 30.0
    sim = Sim()
    tab = sim.open(leader_silence=2.0)
    handlers(sim, tab)
    hung = hang_once(tab, lambda op, detail: op == "open")
    first = sim.call(tab, tab["jobs"].start())
    assert sim.run_until(lambda: "value" in first or tab["rt"].reports, OPEN_TIMEOUT + 5), \
        "start() is still waiting"
    assert hung["left"] == 0, "the open never hung: the story did not happen"
    assert "value" not in first
    errors = [exc for where, exc in tab["rt"].reports if where == "page code"]
    assert errors and isinstance(errors[0], StorageUnavailable), tab["rt"].reports
    assert errors[0].name == "Timeout" and "did not open within" in str(errors[0])
    assert not tab["jobs"].started
    sim.start(tab)
    assert sim.run_until(lambda: tab["jobs"].is_leader, 10), "the second start() failed"
    job = enqueue(sim, tab)
    assert sim.run_until(lambda: sim.job(job.id)["status"] == "completed", 10)
