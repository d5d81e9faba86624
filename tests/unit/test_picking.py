"""Which job runs next: picking.plan for a dispatch pass, and the pick order through
engine.claim_next."""

from brython_jobs.picking import pick_key, plan


# -- plan ---------------------------------------------------------------------------

def test_plan_runs_due_queues_and_wakes_for_the_next_future_one():
    """Given queue a due at 90, b due at 95, c due at 130 and d at 120, now=100,
    Then a and b run (earliest due first) and the dispatcher wakes at 120."""
    heads = {"c": 130.0, "b": 95.0, "a": 90.0, "d": 120.0}
    assert plan(heads, 100.0, set(), set(), 4) == (["a", "b"], 120.0)


def test_a_job_due_exactly_now_is_due():
    """Given a head due exactly now, Then its queue runs and there is no wake time."""
    assert plan({"a": 100.0}, 100.0, set(), set(), 1) == (["a"], None)


def test_running_and_paused_queues_are_skipped_even_for_waking():
    """Given a is running and b paused (both due), c due later,
    Then nothing runs now, and the wake time ignores a and b's future heads."""
    heads = {"a": 90.0, "b": 90.0, "c": 150.0}
    assert plan(heads, 100.0, {"a"}, {"b"}, 4) == ([], 150.0)
    assert plan({"a": 120.0, "b": 110.0}, 100.0, {"a"}, {"b"}, 4) == ([], None)


def test_concurrency_limit_counts_running_queues():
    """Given a limit of 2 with one queue running and three idle queues due,
    Then only the single earliest-due idle queue is started."""
    heads = {"x": 50.0, "y": 40.0, "z": 60.0, "busy": 10.0}
    assert plan(heads, 100.0, {"busy"}, set(), 2) == (["y"], None)
    assert plan(heads, 100.0, {"busy", "other"}, set(), 2) == ([], None)


def test_nothing_pending_means_wait_for_an_event():
    """Given no pending job, Then nothing runs and no wake time is set."""
    assert plan({}, 100.0, set(), set(), 4) == ([], None)


def test_wake_at_includes_the_next_expiry_just_past_its_limit():
    """Given a job expiring at 105 behind a running queue, and a head due at 150,
    Then the dispatcher wakes just after 105 to expire it (a job expires strictly past
    its limit)."""
    queues, wake_at = plan({"a": 90.0, "b": 150.0}, 100.0, {"a"}, set(), 4, 105.0)
    assert queues == []
    assert 105.0 < wake_at < 105.01
    # a later expiry does not delay an earlier due head
    assert plan({"b": 150.0}, 100.0, set(), set(), 4, 200.0) == ([], 150.0)


def test_pick_key_orders_priority_then_due_then_seq():
    """Given records of mixed priority/due/seq, When sorted by pick_key,
    Then highest priority first, then earliest due, then lowest seq."""
    recs = [
        {"npri": 0, "run_at": 5.0, "seq": 1},
        {"npri": -5, "run_at": 9.0, "seq": 2},
        {"npri": -5, "run_at": 3.0, "seq": 4},
        {"npri": -5, "run_at": 3.0, "seq": 3},
    ]
    assert [r["seq"] for r in sorted(recs, key=pick_key)] == [3, 4, 2, 1]


# -- pick order through claim_next ----------------------------------------------------

async def claim_all(engine, epoch, queue="default"):
    """Claim and complete jobs of ``queue`` one after another; their names in order."""
    order = []
    while True:
        held, _ = await engine.claim_next(queue, epoch)
        if held is None:
            return order
        order.append(held["name"])
        await engine.complete(held, epoch, None)


async def test_highest_priority_runs_first(engine, enqueue):
    """Given jobs of priority 0, 10 and 5 enqueued in that order,
    When the leader claims them one by one, Then they run 10, 5, 0."""
    await enqueue("p0", priority=0)
    await enqueue("p10", priority=10)
    await enqueue("p5", priority=5)
    epoch = await engine.become_leader("tab")
    assert await claim_all(engine, epoch) == ["p10", "p5", "p0"]


async def test_equal_priority_runs_in_due_time_then_enqueue_order(engine, enqueue, clock):
    """Given equal-priority jobs: one due at now-5 (run_at), two due now, one due at
    now-10, all enqueued in that order,
    Then they run by due time, and the two due at the same time in enqueue order."""
    now = clock()
    await enqueue("due-5", run_at=now - 5)
    await enqueue("now-first")
    await enqueue("now-second")
    await enqueue("due-10", run_at=now - 10)
    epoch = await engine.become_leader("tab")
    assert await claim_all(engine, epoch) == ["due-10", "due-5", "now-first", "now-second"]


async def test_a_future_high_priority_job_does_not_block_a_due_one(engine, enqueue, clock):
    """Given a priority-100 job due in 60s and a priority-0 job due now,
    When the leader claims now, Then it gets the due low-priority job,
    and the high-priority one only once it is due."""
    await enqueue("later-urgent", priority=100, delay=60)
    await enqueue("now-minor", priority=0)
    epoch = await engine.become_leader("tab")
    assert await claim_all(engine, epoch) == ["now-minor"]
    clock.advance(60)
    assert await claim_all(engine, epoch) == ["later-urgent"]


async def test_queues_are_independent(engine, enqueue):
    """Given jobs in queues a and b, When claiming from a, Then only a's job comes."""
    await enqueue("in-a", queue="a")
    await enqueue("in-b", queue="b", priority=99)
    epoch = await engine.become_leader("tab")
    assert await claim_all(engine, epoch, "a") == ["in-a"]
    assert await claim_all(engine, epoch, "b") == ["in-b"]


async def test_engine_overview_plans_from_the_store(engine, enqueue, clock):
    """Given a due job in a, a job due in 30s in b and one expiring in 10s in c (paused),
    When planning, Then a runs now and the wake time is just past c's expiry."""
    await enqueue("now", queue="a")
    await enqueue("soon", queue="b", delay=30)
    await enqueue("ttl", queue="c", ttl=10)
    queues, wake_at, _expired = await engine.overview(set(), {"c"})
    assert queues == ["a"]
    assert clock() + 10 < wake_at < clock() + 10.01
