"""Regression tests for issue 10's ownership and fencing findings (3, 16), in the core.

Finding 3: the owner check names the attempt (a claim token), not only the leader epoch.
Finding 16: ensure_schedules is fenced and decides inside its transaction.
"""

import pytest

from brython_jobs.engine import SCHEDULE, Config, Engine, Fenced, run_key
from brython_jobs.memory_store import MemoryStore
from brython_jobs.transitions import StaleWrite

T0 = 1000.0


async def lead(engine, tab="tab"):
    return await engine.become_leader(tab)


async def reclaimed_by_the_same_leader(engine, enqueue, store):
    """A job claimed (attempt A), cancelled, redriven and claimed again (attempt B) by one
    leader, with a second job waiting in the same queue. Returns (A, B, epoch, other)."""
    first = await enqueue("slow")
    other = await enqueue("next")
    epoch = await lead(engine)
    attempt_a, _ = await engine.claim_next("default", epoch)
    assert attempt_a["id"] == first["id"]
    await engine.cancel(first["id"])
    await engine.redrive(first["id"])
    attempt_b, _ = await engine.claim_next("default", epoch)
    assert attempt_b["id"] == first["id"] and attempt_b["status"] == "processing"
    return attempt_a, attempt_b, epoch, other


async def test_finding_03_late_timeout_of_old_attempt_is_refused(engine, enqueue, store):
    """Given a job cancelled, redriven and reclaimed by the same leader,
    When the first attempt's late timeout is written (finish-and-claim),
    Then StaleWrite: the healthy attempt stays processing, the next job is not claimed,
    and the healthy attempt can still complete."""
    attempt_a, attempt_b, epoch, other = await reclaimed_by_the_same_leader(
        engine, enqueue, store)
    with pytest.raises(StaleWrite):
        await engine.fail(attempt_a, epoch, "timeout", "attempt 1 ran too long",
                          claim_next=True)
    stored = await store.get(attempt_b["id"])
    assert stored["status"] == "processing" and stored["error"] is None
    assert (await store.get(other["id"]))["status"] == "pending"
    done, claimed, _ = await engine.complete(attempt_b, epoch, "ok", claim_next=True)
    assert done["status"] == "completed" and claimed["id"] == other["id"]


async def test_finding_03_late_result_and_progress_of_old_attempt_are_refused(
        engine, enqueue, store):
    """Given the same reclaimed job, When the first attempt reports progress or a result,
    Then both are refused and the stored attempt is untouched."""
    attempt_a, attempt_b, epoch, _ = await reclaimed_by_the_same_leader(
        engine, enqueue, store)
    with pytest.raises(StaleWrite):
        await engine.progress(attempt_a, epoch, 0.9, "old attempt")
    with pytest.raises(StaleWrite):
        await engine.complete(attempt_a, epoch, "old result")
    stored = await store.get(attempt_b["id"])
    assert stored["status"] == "processing" and stored["progress"] is None
    assert stored["result"] is None
    rec = await engine.progress(attempt_b, epoch, 0.5, "new attempt")
    assert rec["progress"] == {"fraction": 0.5, "message": "new attempt"}


async def test_each_claim_gets_a_new_token(engine, enqueue):
    """Given one job claimed twice (a retry), Then the two claims carry different tokens."""
    await enqueue("r")
    epoch = await lead(engine)
    first, _ = await engine.claim_next("default", epoch)
    await engine.fail(first, epoch, "handler_error", "x", backoff=0)
    second, _ = await engine.claim_next("default", epoch)
    assert first["claim"] is not None and second["claim"] != first["claim"]


# -- finding 16 -------------------------------------------------------------------------

class RacingStore(MemoryStore):
    """A MemoryStore that runs ``before_atomic()`` (once) just before the first atomic
    transaction that reads the meta key ``watch`` begins: another task's write that
    lands between a check and the write that depends on it."""

    before_atomic = None
    watch = SCHEDULE + "sync"

    async def atomic(self, fn, job_ids=(), meta_keys=(), pending_keys=()):
        hook = self.before_atomic
        if hook is not None and self.watch in meta_keys:
            self.before_atomic = None
            await hook()
        return await MemoryStore.atomic(self, fn, job_ids, meta_keys, pending_keys)


async def test_finding_16_replaced_leader_cannot_add_a_second_run(make_engine, store, clock):
    """Given a schedule whose pending run was lost, and leader A replaced by leader B,
    When B repairs the schedule and then A (replaced) tries too,
    Then A gets Fenced and there is exactly one pending run."""
    tab_a, tab_b = make_engine(), make_engine()
    run = await tab_a.every("sync", 60)
    epoch_a = await lead(tab_a, "a")
    store.jobs.pop(run["id"])  # a crash between finishing one run and putting the next
    epoch_b = await lead(tab_b, "b")
    assert len(await tab_b.ensure_schedules(epoch_b)) == 1
    with pytest.raises(Fenced):
        await tab_a.ensure_schedules(epoch_a)
    runs = await store.query(status="pending", limit=None)
    assert len(runs) == 1 and runs[0]["key"] == run_key("sync")


async def test_finding_16_ensure_schedules_decides_inside_its_transaction(clock, rand, new_id):
    """Given a schedule whose run is pending,
    When the leader claims that run between ensure_schedules' first reads and its
    transaction, Then no second run is added (the run is processing, not missing)."""
    store = RacingStore()
    await store.open()
    engine = Engine(store, clock, rand, new_id, Config())
    await engine.every("sync", 60)
    epoch = await lead(engine)

    async def claim_meanwhile():
        claimed, _ = await engine.claim_next("default", epoch)
        assert claimed is not None

    store.before_atomic = claim_meanwhile
    assert await engine.ensure_schedules(epoch) == []
    jobs = await store.query(limit=None)
    assert [r["status"] for r in jobs] == ["processing"]
    assert (await store.meta_get(SCHEDULE + "sync"))["key"] == "sync"


async def test_finding_16_a_schedule_of_an_older_version_is_not_doubled_either(
        clock, rand, new_id):
    """Given a schedule written by an older version (it does not name its run), with its
    run pending, When the leader claims that run just before ensure_schedules' deciding
    transaction, Then no second run is added."""
    store = RacingStore()
    await store.open()
    engine = Engine(store, clock, rand, new_id, Config())
    await engine.every("sync", 60)
    del store.meta[SCHEDULE + "sync"]["run"]  # as an older version stored it
    epoch = await lead(engine)

    async def claim_meanwhile():
        claimed, _ = await engine.claim_next("default", epoch)
        assert claimed is not None

    store.before_atomic = claim_meanwhile
    assert await engine.ensure_schedules(epoch) == []
    assert [r["status"] for r in await store.query(limit=None)] == ["processing"]
