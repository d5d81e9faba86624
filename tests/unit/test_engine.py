"""Engine operations over a MemoryStore with a fake clock: enqueue, retries, leadership
fencing, recovery, sweeping, pause, cancel and redrive."""

import pytest

from brython_jobs.engine import Fenced, job_spec
from brython_jobs.transitions import StaleWrite


async def lead(engine, tab="tab-a"):
    return await engine.become_leader(tab)


# -- enqueue -------------------------------------------------------------------------

async def test_enqueue_stores_a_pending_job(engine, enqueue, store, clock):
    """Given an empty queue, When a job is enqueued with a 5s delay and a ttl,
    Then it is stored pending, due in 5s, expiring ttl after that, attempt count 0."""
    rec = await enqueue("rebuild", {"since": "2025-01-01"}, delay=5, ttl=30, priority=2)
    stored = await store.get(rec["id"])
    assert stored == rec
    assert stored["status"] == "pending"
    assert stored["run_at"] == clock() + 5
    assert stored["expires_at"] == clock() + 35
    assert stored["attempts"] == 0 and stored["max_attempts"] == 4
    assert stored["payload"] == {"since": "2025-01-01"}
    assert stored["created_at"] == clock()


async def test_enqueue_order_is_recorded(enqueue):
    """Given two enqueues, Then the later one has a higher seq and another id."""
    a = await enqueue("a")
    b = await enqueue("b")
    assert a["seq"] < b["seq"]
    assert a["id"] != b["id"]


async def test_a_pending_job_with_the_key_is_returned_instead(engine, enqueue, store):
    """Given a pending job with key "k",
    When another job with key "k" is enqueued (even with another payload),
    Then the pending one is returned and no job is added."""
    first = await enqueue("sync", {"v": 1}, key="k")
    again = await enqueue("sync", {"v": 2}, key="k")
    assert again["id"] == first["id"]
    assert again["payload"] == {"v": 1}
    assert len(await store.query(limit=None)) == 1
    results = await engine.enqueue_many([])
    assert results == []


async def test_a_key_only_dedupes_against_pending_jobs(engine, enqueue, store):
    """Given the keyed job is processing (then completed),
    When the key is enqueued again, Then a new job is created each time."""
    first = await enqueue("sync", key="k")
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    second = await enqueue("sync", key="k")
    assert second["id"] != first["id"]
    await engine.complete(held, epoch, None)
    assert (await enqueue("sync", key="k"))["id"] == second["id"]


async def test_one_batch_with_a_repeated_key_creates_one_job(engine, store):
    """Given one batch with two specs of key k and one without,
    When inserted, Then the second k spec yields the first's job: two jobs in all."""
    specs = [job_spec("a", 1, key="k"), job_spec("a", 2, key="k"), job_spec("b")]
    results = await engine.enqueue_many(specs)
    assert [created for _, created in results] == [True, False, True]
    assert results[1][0]["id"] == results[0][0]["id"]
    assert len(await store.query(limit=None)) == 2


# -- retries ---------------------------------------------------------------------------

async def test_failures_retry_with_exponential_backoff_until_failed(
        make_engine, enqueue, store, clock):
    """Given retries=2 and backoff 2s (3 attempts),
    When each attempt fails,
    Then the job is retried 2s, then 4s after the failure, and after the third
    failure it is failed with 3 attempts counted."""
    engine = make_engine(retries=2, backoff=2.0)
    rec = await enqueue("flaky", via=engine)
    assert rec["max_attempts"] == 3
    epoch = await lead(engine)

    held, _ = await engine.claim_next("default", epoch)
    assert held["attempts"] == 1
    after = await engine.fail(held, epoch, "handler_error", "ValueError: 1")
    assert after["status"] == "pending" and after["run_at"] == clock() + 2.0

    clock.advance(1.9)
    assert (await engine.claim_next("default", epoch))[0] is None  # not due yet
    clock.advance(0.1)
    held, _ = await engine.claim_next("default", epoch)
    assert held["attempts"] == 2
    after = await engine.fail(held, epoch, "handler_error", "ValueError: 2")
    assert after["run_at"] == clock() + 4.0

    clock.advance(4.0)
    held, _ = await engine.claim_next("default", epoch)
    assert held["attempts"] == 3
    after = await engine.fail(held, epoch, "handler_error", "ValueError: 3")
    assert after["status"] == "failed"
    stored = await store.get(rec["id"])
    assert stored["attempts"] == 3
    assert stored["error"] == {"code": "handler_error", "message": "ValueError: 3"}
    assert (await engine.claim_next("default", epoch))[0] is None


async def test_retry_delay_has_jitter_and_a_cap(make_engine, enqueue, rand, clock):
    """Given backoff 100 capped at 150 and rand 0.5,
    When attempt 1 fails, Then it waits 95s (100 minus 5% jitter);
    when attempt 2 fails, it waits the cap 150 minus 5%."""
    rand.value = 0.5
    engine = make_engine(backoff=100.0, backoff_max=150.0)
    await enqueue("flaky", via=engine)
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    after = await engine.fail(held, epoch, "timeout", "slow")
    assert after["run_at"] == pytest.approx(clock() + 95.0)
    clock.set(after["run_at"])
    held, _ = await engine.claim_next("default", epoch)
    after = await engine.fail(held, epoch, "timeout", "slow")
    assert after["run_at"] == pytest.approx(clock() + 142.5)


async def test_a_handler_backoff_of_zero_retries_at_once(engine, enqueue, clock):
    """Given a handler backoff of 0, When an attempt fails,
    Then the job is due again at once and its next claim is attempt 2."""
    await enqueue("flaky")
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    after = await engine.fail(held, epoch, "handler_error", "x", backoff=0)
    assert after["status"] == "pending" and after["run_at"] == clock()
    assert (await engine.claim_next("default", epoch))[0]["attempts"] == 2


async def test_no_handler_fails_at_once(engine, enqueue, store):
    """Given a job with attempts to spare,
    When the leader has no handler for it (a final failure),
    Then it is failed after one attempt with code no_handler."""
    rec = await enqueue("unknown")
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    after = await engine.fail(held, epoch, "no_handler", "no handler", final=True)
    assert after["status"] == "failed"
    stored = await store.get(rec["id"])
    assert stored["attempts"] == 1 and stored["error"]["code"] == "no_handler"


async def test_progress_and_completion(engine, enqueue, store, clock):
    """Given a claimed job, When progress is reported (bad values refused) and it
    completes 3s later, Then progress, result and finish time are stored."""
    rec = await enqueue("work")
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    await engine.progress(held, epoch, 0.5, "half way")
    stored = await store.get(rec["id"])
    assert stored["progress"] == {"fraction": 0.5, "message": "half way"}
    with pytest.raises(ValueError):
        await engine.progress(held, epoch, 1.5)
    with pytest.raises(TypeError):
        await engine.progress(held, epoch, 0.5, 42)
    clock.advance(3)
    done = await engine.complete(held, epoch, {"vectors": 120})
    assert done["status"] == "completed" and done["result"] == {"vectors": 120}
    assert done["finished_at"] == clock()


# -- leadership -------------------------------------------------------------------------

async def test_a_replaced_leader_is_fenced_and_writes_nothing(make_engine, enqueue, store):
    """Given tab A led (epoch 1) and holds a running job, and tab B became leader
    (epoch 2) while A was frozen,
    When A wakes and tries to claim, complete, fail, report progress or heartbeat,
    Then every call raises Fenced and the store is exactly as before."""
    tab_a, tab_b = make_engine(), make_engine()
    await enqueue("first", via=tab_a)
    await enqueue("second", via=tab_a)
    epoch_a = await tab_a.become_leader("A")
    held, _ = await tab_a.claim_next("default", epoch_a)
    epoch_b = await tab_b.become_leader("B")
    assert (epoch_a, epoch_b) == (1, 2)

    before = (dict(store.jobs), dict(store.meta), store.writes)
    with pytest.raises(Fenced):
        await tab_a.claim_next("default", epoch_a)
    with pytest.raises(Fenced):
        await tab_a.complete(held, epoch_a, "done")
    with pytest.raises(Fenced):
        await tab_a.fail(held, epoch_a, "handler_error", "x")
    with pytest.raises(Fenced):
        await tab_a.progress(held, epoch_a, 0.5)
    with pytest.raises(Fenced):
        await tab_a.heartbeat(epoch_a)
    assert (dict(store.jobs), dict(store.meta), store.writes) == before
    assert (await store.get(held["id"]))["owner"] == epoch_a


async def test_heartbeat_resign_and_silence(make_engine, clock):
    """Given leader silence 10s,
    Then no leader is silent; a fresh heartbeat is not; 10.1s later it is; a resigned
    leader is silent at once; an old epoch cannot resign the new leader."""
    engine = make_engine(leader_silence=10.0)
    assert engine.leader_is_silent(await engine.leader_info(), clock())
    epoch = await engine.become_leader("A")
    assert not engine.leader_is_silent(await engine.leader_info(), clock())
    clock.advance(8)
    await engine.heartbeat(epoch)
    clock.advance(8)
    assert not engine.leader_is_silent(await engine.leader_info(), clock())
    clock.advance(2.1)
    assert engine.leader_is_silent(await engine.leader_info(), clock())
    new = await engine.become_leader("B")
    await engine.resign(epoch)  # the old epoch: ignored
    info = await engine.leader_info()
    assert info["epoch"] == new and info["tab"] == "B"
    assert not engine.leader_is_silent(info, clock())
    await engine.resign(new)
    assert engine.leader_is_silent(await engine.leader_info(), clock())


async def test_recover_only_touches_jobs_of_other_epochs(
        make_engine, enqueue, store, clock):
    """Given epoch 1 left a job processing in queue a, and the new leader (epoch 2)
    already runs a job in queue b,
    When epoch 2 recovers,
    Then a's job is pending again with its attempt counted and code interrupted, and
    b's job is untouched."""
    tab_a, tab_b = make_engine(), make_engine()
    orphan = await enqueue("orphan", queue="a", via=tab_a)
    mine = await enqueue("mine", queue="b", via=tab_a)
    epoch_a = await tab_a.become_leader("A")
    await tab_a.claim_next("a", epoch_a)
    epoch_b = await tab_b.become_leader("B")
    held, _ = await tab_b.claim_next("b", epoch_b)
    clock.advance(5)

    changed = await tab_b.recover(epoch_b)
    assert [r["id"] for r in changed] == [orphan["id"]]
    rec = await store.get(orphan["id"])
    assert rec["status"] == "pending" and rec["attempts"] == 1
    assert rec["owner"] is None and rec["error"]["code"] == "interrupted"
    assert await store.get(mine["id"]) == held
    # the recovered attempt counts: the next claim is attempt 2
    again, _ = await tab_b.claim_next("a", epoch_b)
    assert again["attempts"] == 2


async def test_recover_fails_an_orphan_with_no_attempts_left(make_engine, enqueue, store):
    """Given an orphaned job on its only attempt, When the new leader recovers,
    Then it is failed with code interrupted."""
    tab_a, tab_b = make_engine(), make_engine()
    rec = await enqueue("once", retries=0, via=tab_a)
    epoch_a = await tab_a.become_leader("A")
    await tab_a.claim_next("default", epoch_a)
    epoch_b = await tab_b.become_leader("B")
    await tab_b.recover(epoch_b)
    stored = await store.get(rec["id"])
    assert stored["status"] == "failed" and stored["error"]["code"] == "interrupted"


async def test_a_replaced_leader_cannot_recover(make_engine, enqueue, store):
    """Given A (epoch 1) left a job processing, B became leader (epoch 2) and was
    replaced by C (epoch 3) before it recovered,
    When B recovers with epoch 2, Then Fenced and the job is untouched for C."""
    tab_a, tab_b, tab_c = make_engine(), make_engine(), make_engine()
    await enqueue("x", via=tab_a)
    epoch_a = await tab_a.become_leader("A")
    held, _ = await tab_a.claim_next("default", epoch_a)
    epoch_b = await tab_b.become_leader("B")
    epoch_c = await tab_c.become_leader("C")
    with pytest.raises(Fenced):
        await tab_b.recover(epoch_b)
    assert await store.get(held["id"]) == held
    assert [r["id"] for r in await tab_c.recover(epoch_c)] == [held["id"]]


# -- expiry and purging --------------------------------------------------------------

async def test_sweep_expires_a_job_waiting_behind_a_running_one(
        engine, enqueue, store, clock):
    """Given a running job, and behind it in the same queue a job with ttl 10 (fail)
    and one with ttl 10 (cancel),
    When the sweep runs 10s later, Then nothing expired yet; just after, both ended
    with code expired (failed and cancelled)."""
    await enqueue("long")
    fail = await enqueue("fresh-fail", ttl=10)
    canc = await enqueue("fresh-cancel", ttl=10, on_expire="cancel")
    epoch = await lead(engine)
    await engine.claim_next("default", epoch)
    clock.advance(10)
    assert await engine.sweep() == []
    clock.advance(0.01)
    gone = await engine.sweep()
    assert sorted(r["id"] for r in gone) == [fail["id"], canc["id"]]
    assert (await store.get(fail["id"]))["status"] == "failed"
    assert (await store.get(canc["id"]))["status"] == "cancelled"
    assert (await store.get(canc["id"]))["error"]["code"] == "expired"


async def test_claim_next_expires_jobs_it_meets(engine, enqueue, store, clock):
    """Given a high-priority job past its ttl and a due low-priority job,
    When the leader claims, Then the first is expired and the second claimed."""
    stale = await enqueue("stale", priority=9, ttl=1)
    ok = await enqueue("ok")
    clock.advance(2)
    epoch = await lead(engine)
    held, expired = await engine.claim_next("default", epoch)
    assert held["id"] == ok["id"]
    assert [r["id"] for r in expired] == [stale["id"]]
    assert (await store.get(stale["id"]))["error"]["code"] == "expired"


async def test_sweep_purges_old_completed_jobs_only(make_engine, enqueue, store, clock):
    """Given keep_completed 100s, a completed job, a failed one and a cancelled one,
    When 100s pass, Then nothing is purged; 101s later the completed job is gone,
    the failed and cancelled ones are kept."""
    engine = make_engine(keep_completed=100.0)
    done = await enqueue("done", via=engine)
    bad = await enqueue("bad", via=engine)
    gone = await enqueue("gone", via=engine)
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    await engine.complete(held, epoch, None)
    held, _ = await engine.claim_next("default", epoch)
    await engine.fail(held, epoch, "no_handler", "x", final=True)
    await engine.cancel(gone["id"])
    clock.advance(100)
    await engine.sweep()
    assert await store.get(done["id"]) is not None
    clock.advance(1)
    await engine.sweep()
    assert await store.get(done["id"]) is None
    assert (await store.get(bad["id"]))["status"] == "failed"
    assert (await store.get(gone["id"]))["status"] == "cancelled"


async def test_keep_completed_none_keeps_them(make_engine, enqueue, store, clock):
    """Given keep_completed=None and a completed job, When ages pass and the sweep
    runs, Then nothing is purged."""
    engine = make_engine(keep_completed=None)
    rec = await enqueue("done", via=engine)
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    await engine.complete(held, epoch, None)
    clock.advance(10 ** 9)
    assert await engine.purge_completed() == 0
    await engine.sweep()
    assert (await store.get(rec["id"]))["status"] == "completed"


# -- pause / resume ---------------------------------------------------------------------

async def test_pause_blocks_claiming_and_resume_allows_it(engine, enqueue, store):
    """Given a due job in queue emb and one in default,
    When emb is paused, Then claim_next on emb gets nothing (the job stays pending)
    while default still runs; after resume, emb's job is claimed."""
    rec = await enqueue("e", queue="emb")
    await enqueue("d")
    epoch = await lead(engine)
    await engine.set_paused("emb", True)
    await engine.set_paused("emb", True)  # idempotent
    assert await engine.paused() == {"emb"}
    assert (await engine.claim_next("emb", epoch))[0] is None
    assert (await store.get(rec["id"]))["status"] == "pending"
    assert (await engine.claim_next("default", epoch))[0] is not None
    await engine.set_paused("emb", False)
    assert await engine.paused() == set()
    held, _ = await engine.claim_next("emb", epoch)
    assert held["id"] == rec["id"]


# -- cancel / redrive ---------------------------------------------------------------

async def test_cancel_pending_and_processing(engine, enqueue, store):
    """Given a pending job and a processing one,
    When both are cancelled, Then both are cancelled; the leader's later completion of
    the processing one is refused (StaleWrite) and leaves it cancelled."""
    waiting = await enqueue("w", queue="b")
    await enqueue("r")
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    rec, changed = await engine.cancel(waiting["id"])
    assert changed and rec["status"] == "cancelled"
    rec, changed = await engine.cancel(held["id"])
    assert changed and rec["status"] == "cancelled" and rec["error"]["code"] == "cancelled"
    with pytest.raises(StaleWrite):
        await engine.complete(held, epoch, "late")
    assert (await store.get(held["id"]))["status"] == "cancelled"


async def test_cancel_a_finished_job_changes_nothing(engine, enqueue, store):
    """Given a completed job, When cancelled, Then (record, False) and no write."""
    rec = await enqueue("r")
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    await engine.complete(held, epoch, 1)
    writes = store.writes
    after, changed = await engine.cancel(rec["id"])
    assert not changed and after["status"] == "completed"
    assert store.writes == writes


async def test_unknown_ids_raise_key_error(engine):
    """Given no such job, When cancel/redrive is asked for it, Then KeyError."""
    for op in (engine.cancel, engine.redrive):
        with pytest.raises(KeyError):
            await op("no-such-job")
        with pytest.raises(KeyError):
            await op(None)


async def test_redrive_a_failed_job(engine, enqueue, store, clock):
    """Given a job that failed its only attempt,
    When redriven later, Then it is pending, due now, attempts 0, and runs again."""
    rec = await enqueue("once", retries=0, ttl=60)
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    await engine.fail(held, epoch, "handler_error", "x")
    clock.advance(500)
    after, changed = await engine.redrive(rec["id"])
    assert changed
    assert after["status"] == "pending" and after["attempts"] == 0
    assert after["run_at"] == clock() and after["expires_at"] == clock() + 60
    again, _ = await engine.claim_next("default", epoch)
    assert again["id"] == rec["id"] and again["attempts"] == 1


async def test_redrive_a_pending_job_changes_nothing(engine, enqueue):
    """Given a pending job, When redriven, Then (the same record, False)."""
    rec = await enqueue("w")
    after, changed = await engine.redrive(rec["id"])
    assert not changed and after == rec


async def test_redrive_failed_by_queue(engine, enqueue, store):
    """Given two failed jobs in queue a, one in b and a cancelled one in a,
    When redrive_failed("a"), Then only a's two failed jobs are redriven;
    redrive_failed() then takes b's."""
    epoch = await lead(engine)
    for name, queue in (("a1", "a"), ("a2", "a"), ("b1", "b")):
        await enqueue(name, queue=queue)
        held, _ = await engine.claim_next(queue, epoch)
        await engine.fail(held, epoch, "no_handler", "x", final=True)
    cancelled = await enqueue("a3", queue="a")
    await engine.cancel(cancelled["id"])
    redriven = await engine.redrive_failed("a")
    assert sorted(r["name"] for r in redriven) == ["a1", "a2"]
    assert (await store.get(cancelled["id"]))["status"] == "cancelled"
    assert [r["name"] for r in await engine.redrive_failed()] == ["b1"]
    assert await engine.redrive_failed() == []
