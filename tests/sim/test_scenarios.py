"""Scripted simulations, one story each, of what the seeded runs found (FINDINGS.md).

A test for a finding that is still open is marked ``xfail(strict=True)``: it documents
the failure today and turns red (XPASS) once the core is fixed, so the mark must go."""

import pytest

from tests.sim.test_sim import pytestmark  # noqa: F401  (skip until JobQueue takes a runtime)


def sc():
    from tests.sim import scenario
    return scenario


def test_a_visible_follower_runs_due_jobs_while_the_leader_tab_is_hidden():
    """Given two tabs, the leader hidden (its timers wake once a minute) and the other
    visible, when a job becomes due 5 s after it was enqueued, then it starts within
    the liveness bound (1.5 x leader_silence + 5 s), not at the hidden tab's next
    minute."""
    s = sc()
    res = s.run([(1.0, s.hide(0)), (2.0, s.enqueue(1, "work", {"t": 0.2}, delay=5.0))],
                tabs=2, config={"leader_silence": 4.0})
    assert res.ok, res.describe(full_trace=True)


def test_a_frozen_leader_is_replaced_and_its_job_rerun_once():
    """Given a leader running a job, when it freezes, then the visible tab takes over
    within the bound, reruns the job, and the thawed tab's late outcome is refused."""
    s = sc()
    res = s.run([(1.0, s.enqueue(1, "work", {"t": 3.0})), (2.0, s.freeze(0)),
                 (30.0, s.thaw(0))], tabs=2, config={"leader_silence": 4.0},
                duration=40.0)
    assert res.ok, res.describe(full_trace=True)
    started = [i for i in res.trace.items if i[2] == "ev started"]
    assert started, res.describe(full_trace=True)
