"""The job state machine (transitions.py): pure functions, record in, new record out."""

import pytest

from brython_jobs import transitions as tr
from brython_jobs.records import new_record
from brython_jobs.transitions import StaleWrite


def pending(run_at=100.0, max_attempts=3, ttl=None, on_expire="fail", attempts=0):
    rec = new_record("j1", "task", {"n": 1}, "default", 5, 90.0, run_at, ttl, on_expire,
                     max_attempts)
    rec["seq"] = 1
    rec["attempts"] = attempts
    return rec


def running(owner=1, attempts=1, max_attempts=3, started=100.0, ttl=None):
    return tr.claim(pending(max_attempts=max_attempts, attempts=attempts - 1, ttl=ttl),
                    started, owner)


# -- claim ------------------------------------------------------------------------------

def test_claim_counts_the_attempt_when_it_starts():
    """Given a due pending job with no attempts,
    When epoch 7 claims it at t=105,
    Then it is processing under owner 7, attempt 1, started at 105, indexed by start."""
    before = pending()
    after = tr.claim(before, 105.0, 7)
    assert after["status"] == "processing"
    assert after["attempts"] == 1
    assert after["owner"] == 7
    assert after["started_at"] == 105.0
    assert after["t"] == 105.0
    assert before["status"] == "pending" and before["attempts"] == 0  # not mutated


def test_claim_refuses_a_job_not_yet_due_or_not_pending():
    """Given a job due later, or one already processing, When claimed, Then StaleWrite."""
    with pytest.raises(StaleWrite):
        tr.claim(pending(run_at=200.0), 199.9, 1)
    with pytest.raises(StaleWrite):
        tr.claim(running(), 300.0, 2)


def test_claim_exactly_at_the_due_time_is_allowed():
    """Given a job due at 100, When claimed at exactly 100, Then it is processing."""
    assert tr.claim(pending(run_at=100.0), 100.0, 1)["status"] == "processing"


# -- complete -----------------------------------------------------------------------

def test_complete_by_the_owner():
    """Given a job processing under owner 1,
    When owner 1 completes it with a result at t=110,
    Then it is completed, owner cleared, result stored, indexed by finish time."""
    after = tr.complete(running(), 110.0, 1, {"vectors": 120}, token=1)
    assert after["status"] == "completed"
    assert after["result"] == {"vectors": 120}
    assert after["finished_at"] == 110.0 and after["t"] == 110.0
    assert after["owner"] is None and after["error"] is None


@pytest.mark.parametrize("rec, owner", [
    (running(owner=1), 2),                               # another leader's job
    (pending(), 1),                                      # not processing (recovered)
    (tr.cancel(running(owner=1), 105.0), 1),             # cancelled meanwhile
    (tr.complete(running(owner=1), 105.0, 1, None, token=1), 1),  # already finished
    (None, 1),                                           # deleted
    (tr.claim(tr.redrive(tr.cancel(running(owner=1), 105.0), 106.0), 107.0, 1), 1),
    # ^ the same leader's next claim of the job: claim 2, the writer holds claim 1
])
def test_owner_writes_on_a_job_not_held_are_stale(rec, owner):
    """Given a record that is not processing under the writer's epoch and claim,
    When the writer completes, fails or reports progress,
    Then StaleWrite is raised each time."""
    with pytest.raises(StaleWrite):
        tr.complete(rec, 110.0, owner, None, token=1)
    with pytest.raises(StaleWrite):
        tr.fail_attempt(rec, 110.0, owner, "handler_error", "boom", 2.0, token=1)
    with pytest.raises(StaleWrite):
        tr.set_progress(rec, owner, 0.5, "half", token=1)


def test_progress_of_an_owned_job():
    """Given an owned job, When its owner reports progress, Then it is stored."""
    after = tr.set_progress(running(), 1, 0.5, "half way", token=1)
    assert after["progress"] == {"fraction": 0.5, "message": "half way"}
    assert after["status"] == "processing"


# -- fail_attempt ---------------------------------------------------------------------

def test_a_failed_attempt_with_attempts_left_retries_later():
    """Given attempt 1 of 3 processing,
    When it fails at t=110 with a retry delay of 4s,
    Then it is pending again, due at 114, with the error kept and attempts still 1."""
    after = tr.fail_attempt(running(attempts=1, max_attempts=3), 110.0, 1, "handler_error",
                            "ValueError: bad", 4.0, token=1)
    assert after["status"] == "pending"
    assert after["run_at"] == 114.0 and after["t"] == 114.0
    assert after["attempts"] == 1
    assert after["owner"] is None
    assert after["error"] == {"code": "handler_error", "message": "ValueError: bad"}


def test_the_last_attempt_failing_fails_the_job():
    """Given attempt 3 of 3 processing, When it fails, Then the job is failed."""
    after = tr.fail_attempt(running(attempts=3, max_attempts=3), 110.0, 1, "timeout",
                            "too slow", 4.0, token=1)
    assert after["status"] == "failed"
    assert after["finished_at"] == 110.0
    assert after["attempts"] == 3
    assert after["error"]["code"] == "timeout"


def test_a_final_failure_ignores_remaining_attempts():
    """Given attempt 1 of 3, When it fails with final=True (no handler), Then failed."""
    after = tr.fail_attempt(running(attempts=1, max_attempts=3), 110.0, 1, "no_handler",
                            "none", 4.0, final=True, token=1)
    assert after["status"] == "failed"
    assert after["error"]["code"] == "no_handler"


# -- recover ------------------------------------------------------------------------

def test_recover_puts_an_orphaned_job_back_with_the_attempt_counted():
    """Given attempt 1 of 3 processing under epoch 1,
    When leader epoch 2 recovers at t=150,
    Then it is pending, due now, attempts still 1, error code interrupted."""
    after = tr.recover(running(owner=1, attempts=1), 150.0, 2)
    assert after["status"] == "pending"
    assert after["attempts"] == 1
    assert after["owner"] is None
    assert after["run_at"] <= 150.0
    assert after["error"]["code"] == "interrupted"


def test_recover_fails_an_orphaned_job_with_no_attempts_left():
    """Given attempt 3 of 3 orphaned, When recovered, Then failed, code interrupted."""
    after = tr.recover(running(owner=1, attempts=3, max_attempts=3), 150.0, 2)
    assert after["status"] == "failed"
    assert after["finished_at"] == 150.0
    assert after["error"]["code"] == "interrupted"


def test_recover_leaves_the_live_owners_job_and_other_statuses_alone():
    """Given a job of the live epoch, and a pending job,
    When recovered, Then the very same records come back unchanged."""
    live = running(owner=2)
    assert tr.recover(live, 150.0, 2) is live
    waiting = pending()
    assert tr.recover(waiting, 150.0, 2) is waiting


# -- expire -------------------------------------------------------------------------

@pytest.mark.parametrize("on_expire, status", [("fail", "failed"), ("cancel", "cancelled")])
def test_expire(on_expire, status):
    """Given a job due at 100 with ttl 10 (limit 110),
    When expired at t=112.5,
    Then it ends failed or cancelled as chosen, with code expired and a message
    giving the ttl and how late it is."""
    after = tr.expire(pending(run_at=100.0, ttl=10.0, on_expire=on_expire), 112.5)
    assert after["status"] == status
    assert after["finished_at"] == 112.5
    assert after["error"]["code"] == "expired"
    assert "ttl of 10.0s" in after["error"]["message"]
    assert "2.500s past the limit" in after["error"]["message"]


# -- cancel -------------------------------------------------------------------------

@pytest.mark.parametrize("rec", [pending(), running()])
def test_cancel_an_unfinished_job(rec):
    """Given a pending or processing job, When cancelled at 120,
    Then cancelled, code cancelled, owner cleared, finished at 120."""
    after = tr.cancel(rec, 120.0)
    assert after["status"] == "cancelled"
    assert after["error"]["code"] == "cancelled"
    assert after["owner"] is None
    assert after["finished_at"] == 120.0


def test_cancel_leaves_a_finished_job_unchanged():
    """Given a completed or failed job, When cancelled, Then the same record back."""
    done = tr.complete(running(), 110.0, 1, "ok", token=1)
    assert tr.cancel(done, 120.0) is done
    failed = tr.fail_attempt(running(attempts=3), 110.0, 1, "handler_error", "x", 0.0, token=1)
    assert tr.cancel(failed, 120.0) is failed


# -- redrive ------------------------------------------------------------------------

def test_redrive_a_failed_job_starts_over_with_a_fresh_expiry():
    """Given a job with ttl 30 that failed after 3 attempts,
    When redriven at t=500,
    Then it is pending, due now, attempts 0, no error/result, expiring at 530."""
    failed = tr.fail_attempt(running(attempts=3, ttl=30.0), 110.0, 1, "handler_error",
                             "x", 0.0, token=1)
    after = tr.redrive(failed, 500.0)
    assert after["status"] == "pending"
    assert after["attempts"] == 0
    assert after["run_at"] == 500.0 and after["t"] == 500.0
    assert after["expires_at"] == 530.0
    assert after["error"] is None and after["result"] is None
    assert after["started_at"] is None and after["finished_at"] is None


def test_redrive_a_cancelled_job_and_ignore_others():
    """Given a cancelled job, When redriven, Then pending;
    Given a pending or completed job, When redriven, Then the same record back."""
    cancelled = tr.cancel(pending(), 120.0)
    assert tr.redrive(cancelled, 130.0)["status"] == "pending"
    waiting = pending()
    assert tr.redrive(waiting, 130.0) is waiting
    done = tr.complete(running(), 110.0, 1, None, token=1)
    assert tr.redrive(done, 130.0) is done


def test_a_write_naming_the_attempt_checks_its_claim_token():
    """Given a job claimed a second time by the same epoch (claim 2),
    When a write names claim 1, Then StaleWrite; naming claim 2 is accepted; a write
    naming no token (a tool, not the leader) checks the epoch only."""
    again = tr.claim(tr.redrive(tr.cancel(running(owner=1), 105.0), 106.0), 107.0, 1)
    assert again["claim"] == 2
    with pytest.raises(StaleWrite):
        tr.complete(again, 110.0, 1, None, token=1)
    assert tr.complete(again, 110.0, 1, None, token=2)["status"] == "completed"
    assert tr.complete(again, 110.0, 1, None)["status"] == "completed"
