"""The dispatcher's fast path: finishing a job and claiming the queue's next one in the
same transaction, and the one-read overview of a dispatch pass."""

import pytest

from brython_jobs.engine import Fenced
from brython_jobs.transitions import StaleWrite


async def test_completing_claims_the_next_job_of_the_queue_in_pick_order(
        engine, enqueue, store, clock):
    """Given three due jobs in queue q (priorities 0, 5, 1) and the priority-5 one running,
    When it completes with claim_next,
    Then it is completed and the priority-1 job is claimed in the same write."""
    epoch = await engine.become_leader("tab")
    await enqueue("low", queue="q", priority=0)
    await enqueue("high", queue="q", priority=5)
    await enqueue("mid", queue="q", priority=1)
    held, _ = await engine.claim_next("q", epoch)
    assert held["name"] == "high"
    writes = store.writes

    done, nxt, expired = await engine.complete(held, epoch, {"ok": 1}, claim_next=True)

    assert done["status"] == "completed" and done["result"] == {"ok": 1}
    assert nxt["name"] == "mid" and nxt["status"] == "processing" and nxt["owner"] == epoch
    assert expired == []
    assert store.writes == writes + 1
    assert (await store.get(nxt["id"]))["status"] == "processing"


async def test_finishing_does_not_claim_from_other_queues_or_paused_ones(
        engine, enqueue, store):
    """Given a running job in q, a due job in another queue r, and q paused meanwhile,
    When the job fails for good with claim_next,
    Then nothing is claimed: not from r (another slot's business), not from paused q."""
    epoch = await engine.become_leader("tab")
    await enqueue("a", queue="q", retries=0)
    await enqueue("b", queue="q")
    await enqueue("c", queue="r")
    held, _ = await engine.claim_next("q", epoch)
    await engine.set_paused("q", True)

    failed, nxt, _ = await engine.fail(held, epoch, "handler_error", "boom", claim_next=True)

    assert failed["status"] == "failed"
    assert nxt is None
    counts = await store.counts()
    assert counts["pending"] == 2 and counts["processing"] == 0


async def test_a_retry_is_not_reclaimed_in_the_same_write(engine, enqueue, store, clock):
    """Given the only job of q running with retries left,
    When its attempt fails with claim_next,
    Then it goes back to pending after its backoff and is not claimed again at once."""
    epoch = await engine.become_leader("tab")
    await enqueue("a", queue="q", retries=2)
    held, _ = await engine.claim_next("q", epoch)

    again, nxt, _ = await engine.fail(held, epoch, "handler_error", "boom", claim_next=True)

    assert again["status"] == "pending" and again["run_at"] > clock()
    assert nxt is None


async def test_a_replaced_leader_cannot_finish_and_claim(make_engine, enqueue, store):
    """Given leader A running a job and B elected since,
    When A tries to complete with claim_next,
    Then Fenced is raised and nothing changes."""
    a = make_engine()
    b = make_engine()
    epoch_a = await a.become_leader("A")
    await enqueue("x", queue="q", via=a)
    await enqueue("y", queue="q", via=a)
    held, _ = await a.claim_next("q", epoch_a)
    await b.become_leader("B")
    before = await store.query(limit=None)

    with pytest.raises(Fenced):
        await a.complete(held, epoch_a, None, claim_next=True)

    assert await store.query(limit=None) == before


async def test_a_cancelled_job_is_not_completed_nor_followed(engine, enqueue, store):
    """Given a running job cancelled from another tab,
    When the leader completes it with claim_next,
    Then StaleWrite is raised, it stays cancelled and nothing is claimed."""
    epoch = await engine.become_leader("tab")
    await enqueue("x", queue="q")
    await enqueue("y", queue="q")
    held, _ = await engine.claim_next("q", epoch)
    await engine.cancel(held["id"])

    with pytest.raises(StaleWrite):
        await engine.complete(held, epoch, None, claim_next=True)

    assert (await store.get(held["id"]))["status"] == "cancelled"
    assert (await store.counts())["processing"] == 0


async def test_overview_plans_due_queues_and_flags_expired_jobs(engine, enqueue, clock):
    """Given a due job in q, a job in r due in 10 s and a job in s (running elsewhere)
    with a 5 s ttl,
    When the dispatcher takes its overview at +2 s and again at +6 s,
    Then q is due; it wakes just after s's expiry; at +6 s the expiry is flagged."""
    await enqueue("a", queue="q")
    await enqueue("b", queue="r", delay=10)
    await enqueue("c", queue="s", ttl=5)
    start = clock()
    clock.advance(2)

    queues, wake_at, expired = await engine.overview({"s"}, set())

    assert queues == ["q"]
    assert wake_at == pytest.approx(start + 5.001)
    assert expired is False

    clock.advance(4)
    queues, wake_at, expired = await engine.overview({"s"}, set())
    assert expired is True


async def test_overview_of_an_idle_queue_wakes_for_nothing(engine):
    """Given no jobs, Then nothing is due, no wake time, nothing expired."""
    assert await engine.overview(set(), set()) == ([], None, False)
