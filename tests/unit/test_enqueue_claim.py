"""Claim in the enqueue transaction (Engine.enqueue_and_claim): the leader tab's enqueue
into an idle queue starts the job with no transaction of its own, and only when a
dispatch would have claimed that very job."""

from brython_jobs.engine import job_spec


def spec(clock, name="a", **options):
    return job_spec(name, None, now=clock(), **options)


async def test_an_enqueue_into_an_empty_queue_claims_the_new_job_in_one_write(
        engine, store, clock):
    """Given the leader of an empty queue q,
    When it enqueues a due job with enqueue_and_claim,
    Then one write stored it processing under the leader's epoch, attempt 1."""
    epoch = await engine.become_leader("tab")
    writes = store.writes

    out, claimed = await engine.enqueue_and_claim([spec(clock, queue="q")], "q", epoch)

    assert store.writes == writes + 1
    rec, created = out[0]
    assert created and rec["status"] == "pending"  # the record as enqueued
    assert claimed["id"] == rec["id"] and claimed["status"] == "processing"
    assert claimed["owner"] == epoch and claimed["attempts"] == 1 and claimed["claim"] == 1
    stored = await store.get(rec["id"])
    assert stored["status"] == "processing" and stored["seq"] == rec["seq"]


async def test_the_claimed_job_completes_like_one_claimed_by_claim_next(
        engine, store, clock):
    """Given a job claimed in its enqueue transaction,
    When the leader completes it,
    Then it is completed (the attempt fence accepts it)."""
    epoch = await engine.become_leader("tab")
    _, claimed = await engine.enqueue_and_claim([spec(clock)], "default", epoch)

    done = await engine.complete(claimed, epoch, {"ok": True})

    assert done["status"] == "completed" and done["result"] == {"ok": True}


async def test_a_stored_due_job_goes_first_and_nothing_is_claimed(
        engine, enqueue, store, clock):
    """Given a due job already pending in q (enqueued by another tab, say),
    When the leader enqueues another job of q with enqueue_and_claim,
    Then both are pending and nothing is claimed: the dispatcher takes the older one."""
    epoch = await engine.become_leader("tab")
    older = await enqueue("old", queue="q")

    out, claimed = await engine.enqueue_and_claim([spec(clock, "new", queue="q")], "q",
                                                  epoch)

    assert claimed is None
    assert (await store.get(older["id"]))["status"] == "pending"
    assert (await store.get(out[0][0]["id"]))["status"] == "pending"


async def test_a_higher_priority_new_job_is_claimed_before_stored_ones(
        engine, enqueue, store, clock):
    """Given a due priority-0 job pending in q,
    When a priority-5 job of q is enqueued with enqueue_and_claim,
    Then the new job is claimed (it sorts first), the old one stays pending."""
    epoch = await engine.become_leader("tab")
    older = await enqueue("old", queue="q")

    out, claimed = await engine.enqueue_and_claim(
        [spec(clock, "new", queue="q", priority=5)], "q", epoch)

    assert claimed["id"] == out[0][0]["id"]
    assert (await store.get(older["id"]))["status"] == "pending"


async def test_a_delayed_stored_job_is_walked_past(engine, enqueue, store, clock):
    """Given a high-priority job of q due only in an hour,
    When a due job of q is enqueued with enqueue_and_claim,
    Then the due job is claimed (a dispatch skips jobs not yet due)."""
    epoch = await engine.become_leader("tab")
    await enqueue("later", queue="q", priority=9, delay=3600)

    out, claimed = await engine.enqueue_and_claim([spec(clock, "now", queue="q")], "q",
                                                  epoch)

    assert claimed is not None and claimed["name"] == "now"


async def test_an_expired_stored_job_before_it_leaves_the_claim_to_the_dispatcher(
        engine, enqueue, store, clock):
    """Given a pending job of q past its ttl (it sorts first),
    When a due job of q is enqueued with enqueue_and_claim,
    Then nothing is claimed and the expired job is left for the dispatcher's walk."""
    epoch = await engine.become_leader("tab")
    stale = await enqueue("stale", queue="q", ttl=1)
    clock.advance(5)

    _, claimed = await engine.enqueue_and_claim([spec(clock, "now", queue="q")], "q",
                                                epoch)

    assert claimed is None
    assert (await store.get(stale["id"]))["status"] == "pending"


async def test_nothing_is_claimed_for_a_paused_queue_a_replaced_leader_or_a_stopped_caller(
        engine, make_engine, store, clock):
    """Given queue q paused / the leader replaced by another tab / the caller stopped,
    When a job is enqueued with enqueue_and_claim,
    Then it is stored pending and nothing is claimed (never Fenced: the enqueue holds)."""
    epoch = await engine.become_leader("tab")
    await engine.set_paused("q", True)
    out, claimed = await engine.enqueue_and_claim([spec(clock, queue="q")], "q", epoch)
    assert claimed is None and (await store.get(out[0][0]["id"]))["status"] == "pending"

    out, claimed = await engine.enqueue_and_claim([spec(clock, queue="r")], "r", epoch,
                                                  live=lambda: False)
    assert claimed is None and (await store.get(out[0][0]["id"]))["status"] == "pending"

    await make_engine().become_leader("other tab")
    out, claimed = await engine.enqueue_and_claim([spec(clock, queue="r")], "r", epoch)
    assert claimed is None and (await store.get(out[0][0]["id"]))["status"] == "pending"


async def test_a_batch_claims_its_first_job_in_pick_order_and_only_of_that_queue(
        engine, store, clock):
    """Given a batch: a job of r, a delayed job of q, q jobs of priority 1 and 3,
    When it is enqueued with enqueue_and_claim for q,
    Then the priority-3 q job is claimed, every other job is pending."""
    epoch = await engine.become_leader("tab")
    batch = [spec(clock, "r", queue="r"), spec(clock, "delayed", queue="q", delay=60),
             spec(clock, "p1", queue="q", priority=1), spec(clock, "p3", queue="q",
                                                               priority=3)]

    out, claimed = await engine.enqueue_and_claim(batch, "q", epoch)

    assert claimed["name"] == "p3"
    statuses = {}
    for rec, _ in out:
        statuses[rec["name"]] = (await store.get(rec["id"]))["status"]
    assert statuses == {"r": "pending", "delayed": "pending", "p1": "pending",
                        "p3": "processing"}


async def test_a_key_held_by_a_pending_job_returns_it_unclaimed(
        engine, enqueue, store, clock):
    """Given a pending job of q with key k, delayed,
    When a job with key k is enqueued with enqueue_and_claim,
    Then the existing job comes back (not created) and nothing is claimed."""
    epoch = await engine.become_leader("tab")
    held = await enqueue("k", queue="q", key="k", delay=60)

    out, claimed = await engine.enqueue_and_claim([spec(clock, "k", queue="q", key="k")],
                                                  "q", epoch)

    assert out[0][0]["id"] == held["id"] and out[0][1] is False
    assert claimed is None


async def test_a_new_job_already_past_its_ttl_is_never_claimed(engine, store, clock):
    """Given the leader of an empty queue q,
    When it enqueues a job whose run_at + ttl already lies in the past,
    Then nothing is claimed: the job stays pending for the dispatcher, which expires it
    (it must never start)."""
    epoch = await engine.become_leader("tab")

    out, claimed = await engine.enqueue_and_claim(
        [spec(clock, queue="q", run_at=clock() - 10, ttl=5)], "q", epoch)

    assert claimed is None
    stored = await store.get(out[0][0]["id"])
    assert stored["status"] == "pending" and stored["attempts"] == 0
