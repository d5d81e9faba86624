"""Regression tests for issue 10's record findings (11, 14): malformed and old records,
and keys that must not merge into a job that can no longer run."""

import pytest

from brython_jobs import records

CORRUPT = "corrupt"

T0 = 1000.0


async def lead(engine):
    return await engine.become_leader("tab")


def corrupt(store, job_id, field, value=None, drop=False):
    """Change a stored record in place, as a bug, an old version or another program
    writing to the database might have left it."""
    if drop:
        del store.jobs[job_id][field]
    else:
        store.jobs[job_id][field] = value


def test_the_new_error_codes_are_listed():
    """Given the error codes, Then corrupt and storage_full are among them."""
    assert getattr(records, "CORRUPT", None) == "corrupt"
    assert getattr(records, "STORAGE_FULL", None) == "storage_full"
    assert "corrupt" in records.ERROR_CODES and "storage_full" in records.ERROR_CODES


@pytest.mark.parametrize("field, value", [
    ("run_at", "soon"), ("run_at", [1]), ("priority", "high"), ("attempts", "one"),
    ("max_attempts", None), ("name", 5),
])
async def test_finding_11_a_malformed_pending_record_is_set_aside(
        engine, enqueue, store, field, value):
    """Given a due pending job whose ``field`` was corrupted, and a good due job,
    When the leader plans a pass and works the queue,
    Then nothing raises: the good job runs, and the bad one ends failed with code
    corrupt and a message naming the field, in the walk's own transaction."""
    bad = await enqueue("bad")
    good = await enqueue("good")
    corrupt(store, bad["id"], field, value)
    epoch = await lead(engine)
    queues, _, _ = await engine.overview(set(), set())
    assert queues == ["default"]
    claimed, ended = await engine.claim_next("default", epoch)
    if claimed["id"] != good["id"]:  # the walk met the bad record first and went on
        pytest.fail(f"claimed {claimed!r}")
    done, nxt, ended2 = await engine.complete(claimed, epoch, None, claim_next=True)
    assert nxt is None
    gone = (ended + ended2)[0]
    assert gone["id"] == bad["id"]
    stored = await store.get(bad["id"])
    assert stored["status"] == "failed" and stored["error"]["code"] == CORRUPT
    assert field in stored["error"]["message"]
    assert (await engine.overview(set(), set()))[0] == []


async def test_finding_11_a_queue_holding_only_a_malformed_record_is_cleared(
        engine, enqueue, store):
    """Given the only pending job of a queue has run_at "soon",
    When the leader plans, Then the queue is planned (not a crash), and claiming sets
    the record aside and claims nothing."""
    bad = await enqueue("bad", queue="q")
    corrupt(store, bad["id"], "run_at", "soon")
    epoch = await lead(engine)
    queues, _, _ = await engine.overview(set(), set())
    assert queues == ["q"]
    claimed, ended = await engine.claim_next("q", epoch)
    assert claimed is None and [r["id"] for r in ended] == [bad["id"]]
    assert ended[0]["error"]["code"] == CORRUPT


async def test_finding_11_records_without_a_status_do_not_break_reads(engine, enqueue, store):
    """Given a record whose status field is missing,
    When counts, lists and a dispatch pass read the store, Then none of them raises."""
    bad = await enqueue("bad")
    await enqueue("good")
    corrupt(store, bad["id"], "status", drop=True)
    counts = await store.counts()
    assert counts["pending"] == 1
    assert len(await store.query(limit=None)) == 2
    epoch = await lead(engine)
    assert (await engine.overview(set(), set()))[0] == ["default"]
    claimed, _ = await engine.claim_next("default", epoch)
    assert claimed["name"] == "good"


async def test_finding_11_a_malformed_processing_record_is_set_aside_on_recovery(
        make_engine, enqueue, store):
    """Given a processing job (of an earlier leader) whose attempts field is corrupt,
    When a new leader recovers, Then it ends failed with code corrupt."""
    tab_a, tab_b = make_engine(), make_engine()
    rec = await enqueue("r", via=tab_a)
    epoch_a = await tab_a.become_leader("a")
    await tab_a.claim_next("default", epoch_a)
    corrupt(store, rec["id"], "attempts", "x")
    epoch_b = await tab_b.become_leader("b")
    [gone] = await tab_b.recover(epoch_b)
    assert gone["status"] == "failed" and gone["error"]["code"] == CORRUPT
    assert "attempts" in gone["error"]["message"]


OLD_FIELDS = ("owner", "ttl", "on_expire", "schedule", "trigger", "progress", "result",
              "error", "key", "claim")


async def test_finding_11_records_of_an_older_version_are_read_with_defaults(
        make_engine, enqueue, store, clock):
    """Given records written by an older version (no owner, ttl, on_expire, schedule,
    trigger, claim... fields), one pending and one left processing,
    When a new leader recovers, runs, cancels and redrives them,
    Then every step works with the defaults."""
    tab_a, tab_b = make_engine(), make_engine()
    waiting = await enqueue("waiting", via=tab_a, queue="w")
    running = await enqueue("running", via=tab_a)
    epoch_a = await tab_a.become_leader("a")
    await tab_a.claim_next("default", epoch_a)
    for job_id in (waiting["id"], running["id"]):
        for field in OLD_FIELDS:
            store.jobs[job_id].pop(field, None)
    epoch_b = await tab_b.become_leader("b")
    [recovered] = await tab_b.recover(epoch_b)
    assert recovered["status"] == "pending" and recovered["error"]["code"] == "interrupted"
    held, _ = await tab_b.claim_next("w", epoch_b)
    assert held["id"] == waiting["id"]
    done = await tab_b.complete(held, epoch_b, {"ok": True})
    assert done["status"] == "completed"
    cancelled, changed = await tab_b.cancel(running["id"])
    assert changed and cancelled["status"] == "cancelled"
    redriven, changed = await tab_b.redrive(running["id"])
    assert changed and redriven["status"] == "pending"


# -- finding 14 -------------------------------------------------------------------------

async def test_finding_14_a_key_never_merges_into_an_expired_job(engine, enqueue, store, clock):
    """Given a pending job with key k and ttl 10 (may start until T0+10),
    When the same key is enqueued at T0+11,
    Then a new pending job carries the new request and the old one is expired in the
    same transaction."""
    old = await enqueue("sync", {"v": 1}, key="k", ttl=10)
    clock.set(T0 + 11)
    new = await enqueue("sync", {"v": 2}, key="k", ttl=10)
    assert new["id"] != old["id"] and new["payload"] == {"v": 2}
    assert new["status"] == "pending"
    stored = await store.get(old["id"])
    assert stored["status"] == "failed" and stored["error"]["code"] == "expired"
    assert [r["id"] for r in await store.query(status="pending", limit=None)] == [new["id"]]


async def test_finding_14_a_key_still_merges_at_the_limit(engine, enqueue, store, clock):
    """Given the same job, When the key is enqueued exactly at its limit (it may still
    start), Then the existing job is returned."""
    old = await enqueue("sync", {"v": 1}, key="k", ttl=10)
    clock.set(T0 + 10)
    again = await enqueue("sync", {"v": 2}, key="k", ttl=10)
    assert again["id"] == old["id"]


async def test_finding_14_the_expired_job_is_reported(engine, enqueue, clock):
    """Given an expired keyed job, When enqueue_many is given a list for ended jobs,
    Then the expired job is in it (so the facade can emit its event)."""
    from brython_jobs.engine import job_spec
    old = await enqueue("sync", key="k", ttl=1)
    clock.set(T0 + 5)
    ended = []
    [(rec, created)] = await engine.enqueue_many([job_spec("sync", key="k", now=clock())],
                                                 ended=ended)
    assert created and [r["id"] for r in ended] == [old["id"]]


async def test_finding_14_a_debounced_call_never_joins_an_expired_job(engine, store, clock):
    """Given a debounced job with ttl 1 that was never started and is past its limit,
    When another call comes, Then a new job carries it."""
    from brython_jobs.engine import job_spec
    first, _ = await engine.debounce(job_spec("d", 1, key="d", ttl=1, now=T0),
                                     T0, T0, 2.0, None)
    clock.set(T0 + 10)
    rec, created = await engine.debounce(job_spec("d", 2, key="d", ttl=1, now=T0 + 10),
                                         T0 + 10, T0 + 10, 2.0, None)
    assert created and rec["id"] != first["id"] and rec["payload"] == 2
    assert (await store.get(first["id"]))["error"]["code"] == "expired"


async def test_finding_11_redrive_failed_leaves_records_set_aside_as_corrupt(
        engine, enqueue, store):
    """Given a failed job and a record set aside as corrupt (its ttl is malformed too),
    When every failed job is redriven, Then the failed one is pending again, and the
    corrupt one stays failed (it cannot run) without stopping the others."""
    bad = await enqueue("bad", queue="q")
    good = await enqueue("good", retries=0)
    corrupt(store, bad["id"], "run_at", "soon")
    corrupt(store, bad["id"], "ttl", "long")
    epoch = await lead(engine)
    await engine.claim_next("q", epoch)  # sets it aside
    held, _ = await engine.claim_next("default", epoch)
    await engine.fail(held, epoch, "handler_error", "boom")
    redriven = await engine.redrive_failed()
    assert [r["id"] for r in redriven] == [good["id"]]
    assert (await store.get(bad["id"]))["error"]["code"] == CORRUPT


async def test_a_corrupt_record_can_still_be_redriven_by_id(engine, enqueue, store):
    """Given a record set aside as corrupt whose ttl is malformed too,
    When it is redriven by id (someone repaired it), Then it is pending, with no
    expiry rather than a crash."""
    bad = await enqueue("bad")
    corrupt(store, bad["id"], "run_at", "soon")
    corrupt(store, bad["id"], "ttl", "long")
    epoch = await lead(engine)
    await engine.claim_next("default", epoch)
    rec, changed = await engine.redrive(bad["id"])
    assert changed and rec["status"] == "pending" and rec["expires_at"] is None
