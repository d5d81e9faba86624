"""Scripted simulations of the start path: claiming in the enqueue transaction, and what
the seeded runs found around it."""

from tests.sim.test_sim import pytestmark  # noqa: F401  (skip until JobQueue takes a runtime)


def sc():
    from tests.sim import scenario
    return scenario


def test_a_leader_enqueue_into_an_idle_queue_starts_the_job_in_its_own_transaction():
    """Given two tabs and an idle leader, when page code in the leader tab enqueues a
    job, then one transaction stores it already processing (no claim transaction of its
    own), the job starts and completes, and every invariant holds."""
    s = sc()
    res = s.run([(1.0, s.enqueue(0, "quick"))], tabs=2)
    assert res.ok, res.describe(full_trace=True)
    assert [i[1] for i in res.trace.items if i[2] == "leader"] == ["t0"]
    commits = [i for i in res.trace.items if i[1] == "t0" and i[2].startswith("commit")
               and "new->" in str(i[3])]
    assert len(commits) == 1 and "new->processing" in str(commits[0][3]), \
        res.describe(full_trace=True)
    events = [i[2] for i in res.trace.items if i[1] == "t0" and i[2].startswith("ev ")]
    assert events == ["ev enqueued", "ev started", "ev completed"], events


def test_a_leader_enqueue_behind_another_tabs_due_job_leaves_the_claim_to_the_loop():
    """Given two tabs, when both enqueue a job into the idle queue at the same moment and
    the follower's is stored first, then the leader's enqueue claims nothing (the
    follower's job sorts first), both run one after the other, oldest first."""
    s = sc()
    res = s.run([(1.0, s.enqueue(0, "quick")), (1.0, s.enqueue(1, "quick"))], tabs=2)
    assert res.ok, res.describe(full_trace=True)
    commits = [str(i[3]) for i in res.trace.items if i[1] == "t0"
               and i[2].startswith("commit") and "new->" in str(i[3])]
    assert commits and "new->pending" in commits[0], res.describe(full_trace=True)
    completed = [i for i in res.trace.items if i[2] == "ev completed" and i[1] == "t0"]
    assert len(completed) == 2, res.describe(full_trace=True)


def test_seeds_where_an_enqueue_claimed_beside_another_job_of_its_queue():
    """Given the seeds on which the first claim-in-enqueue let two jobs of one queue run
    (a claim of the dispatch loop in flight: 731; a new leader before its recovery: 7,
    52), when they run, then no invariant breaks."""
    from tests.sim.world import Settings, run_seed
    for seed in (7, 52, 731):
        res = run_seed(seed, Settings())
        assert res.ok, res.describe()
