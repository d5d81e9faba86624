"""Recurring schedules: engine.every / unschedule / ensure_schedules."""

import pytest

from brython_jobs.engine import SCHEDULE, run_key

T0 = 1000.0  # the fake clock's start


async def lead(engine):
    return await engine.become_leader("tab")


async def pending_runs(store, key="sync"):
    out = []
    for rec in await store.query(status="pending", limit=None):
        if rec["schedule"] == key:
            out.append(rec)
    return out


async def run_once(engine, epoch, outcome="ok", queue="default"):
    """Claim the due job of ``queue`` and finish it (``ok`` or a final failure)."""
    held, _ = await engine.claim_next(queue, epoch)
    assert held is not None, "a run was due"
    if outcome == "ok":
        return await engine.complete(held, epoch, None)
    return await engine.fail(held, epoch, "handler_error", outcome)


async def test_the_first_run_is_due_when_the_schedule_is_created(engine, store):
    """Given no schedule, When every("sync", 600) is declared at T0,
    Then one pending run of "sync" is due at T0 and the schedule is stored."""
    rec = await engine.every("sync", 600, payload={"full": False})
    assert rec["name"] == "sync" and rec["run_at"] == T0
    assert rec["payload"] == {"full": False}
    assert rec["key"] == run_key("sync") and rec["schedule"] == "sync"
    assert await pending_runs(store) == [rec]
    sched = await store.meta_get(SCHEDULE + "sync")
    assert sched["interval"] == 600 and sched["next_due"] == T0


async def test_the_next_run_is_due_one_interval_after_the_previous_due_time(
        engine, store, clock):
    """Given a 600s schedule whose first run was due at T0,
    When that run starts at T0+5 and finishes at T0+20,
    Then exactly one next run is pending, due at T0+600 (not 600s after it finished)."""
    await engine.every("sync", 600)
    epoch = await lead(engine)
    clock.advance(5)
    held, _ = await engine.claim_next("default", epoch)
    assert await pending_runs(store) == []  # running, none pending yet
    clock.advance(15)
    await engine.complete(held, epoch, None)
    runs = await pending_runs(store)
    assert [r["run_at"] for r in runs] == [T0 + 600]
    clock.set(T0 + 599)
    assert (await engine.claim_next("default", epoch))[0] is None
    clock.set(T0 + 600)
    await run_once(engine, epoch)
    assert [r["run_at"] for r in await pending_runs(store)] == [T0 + 1200]


async def test_declaring_again_keeps_one_schedule_and_one_run(make_engine, store, clock):
    """Given a 600s schedule declared by tab A,
    When tab B declares it again, and later with a 300s interval,
    Then there is still one schedule and one pending run (due at T0); the new interval
    applies from the next run on."""
    tab_a, tab_b = make_engine(), make_engine()
    first = await tab_a.every("sync", 600)
    clock.advance(1)
    assert await tab_b.every("sync", 600) is None
    assert await tab_b.every("sync", 300) is None
    assert await store.meta_prefix(SCHEDULE) == {
        SCHEDULE + "sync": {"key": "sync", "name": "sync", "interval": 300,
                            "payload": None, "queue": "default", "priority": 0,
                            "retries": None, "next_due": T0, "run": first["id"]}}
    assert [r["id"] for r in await pending_runs(store)] == [first["id"]]
    epoch = await lead(tab_b)
    await run_once(tab_b, epoch)
    assert [r["run_at"] for r in await pending_runs(store)] == [T0 + 300]


async def test_declaring_the_same_schedule_again_writes_nothing(engine, store):
    """Given a schedule, When declared again unchanged, Then no write is made."""
    await engine.every("sync", 600)
    writes = store.writes
    await engine.every("sync", 600)
    assert store.writes == writes


async def test_a_long_gap_gives_one_catch_up_run(engine, store, clock):
    """Given a 60s schedule whose run was due at T0, and no tab open for 10 hours,
    When a leader comes back, Then exactly one run is due (the missed ones collapse);
    after it runs, the next is due on the 60s grid after now, not in the past."""
    await engine.every("sync", 60)
    clock.advance(36000 + 7)
    epoch = await lead(engine)
    assert len(await pending_runs(store)) == 1
    await run_once(engine, epoch)
    runs = await pending_runs(store)
    assert [r["run_at"] for r in runs] == [T0 + 36060]
    assert (await engine.claim_next("default", epoch))[0] is None


async def test_a_failed_run_does_not_stop_the_schedule(engine, store, clock):
    """Given a schedule whose runs have no retries,
    When a run fails, Then the next run is still scheduled one interval later."""
    await engine.every("sync", 60, retries=0)
    epoch = await lead(engine)
    failed = await run_once(engine, epoch, outcome="boom")
    assert failed["status"] == "failed"
    assert [r["run_at"] for r in await pending_runs(store)] == [T0 + 60]


async def test_a_retried_run_keeps_the_schedules_grid(engine, store, clock):
    """Given a 600s schedule with retries (backoff 2s),
    When the run due at T0 fails once and its retry succeeds at T0+3,
    Then no extra run appeared meanwhile, and the next run is due at T0+600: a retry
    does not shift the schedule."""
    await engine.every("sync", 600)
    epoch = await lead(engine)
    clock.advance(1)
    retry = await run_once(engine, epoch, outcome="flaky")
    assert retry["status"] == "pending" and retry["run_at"] == T0 + 3
    assert len(await pending_runs(store)) == 1
    clock.set(T0 + 3)
    await run_once(engine, epoch)
    assert [r["run_at"] for r in await pending_runs(store)] == [T0 + 600]


async def test_cancelling_a_pending_run_skips_it_not_the_schedule(engine, store, clock):
    """Given a 60s schedule with its run pending,
    When that run is cancelled, Then the schedule goes on: the next run is due at
    T0+60 (a schedule always has one run pending or running)."""
    run = await engine.every("sync", 60)
    await engine.cancel(run["id"])
    assert [r["run_at"] for r in await pending_runs(store)] == [T0 + 60]


async def test_cancelling_a_running_run_schedules_the_next(engine, store, clock):
    """Given a schedule's run is running, When it is cancelled,
    Then the next run is due one interval after its due time."""
    await engine.every("sync", 60)
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    await engine.cancel(held["id"])
    assert [r["run_at"] for r in await pending_runs(store)] == [T0 + 60]


async def test_a_recovered_run_without_attempts_left_schedules_the_next(
        make_engine, store, clock):
    """Given a run without retries orphaned by epoch 1, When epoch 2 recovers it
    (failed: interrupted), Then the schedule's next run is pending and returned after it
    (so the leader reports it as enqueued)."""
    tab_a, tab_b = make_engine(), make_engine()
    await tab_a.every("sync", 60, retries=0)
    epoch_a = await tab_a.become_leader("A")
    await tab_a.claim_next("default", epoch_a)
    epoch_b = await tab_b.become_leader("B")
    recovered, nxt = await tab_b.recover(epoch_b)
    assert recovered["status"] == "failed"
    assert [r["run_at"] for r in await pending_runs(store)] == [T0 + 60]
    assert nxt["status"] == "pending" and nxt["run_at"] == T0 + 60


async def test_unschedule_cancels_the_pending_run(engine, store, clock):
    """Given a schedule with a pending run,
    When it is unscheduled, Then True, the run is cancelled, the schedule is gone;
    unscheduling again returns False."""
    run = await engine.every("sync", 60)
    existed, cancelled = await engine.unschedule("sync")
    assert existed is True
    assert cancelled["id"] == run["id"] and cancelled["status"] == "cancelled"
    assert (await store.get(run["id"]))["status"] == "cancelled"
    assert await store.meta_prefix(SCHEDULE) == {}
    assert await pending_runs(store) == []
    assert await engine.unschedule("sync") == (False, None)
    assert await engine.ensure_schedules() == []


async def test_a_run_finishing_after_unschedule_puts_no_next(engine, store):
    """Given a schedule's run is running, When the schedule is removed (no pending
    run to cancel) and the run completes, Then no next run is put."""
    await engine.every("sync", 60)
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    existed, cancelled = await engine.unschedule("sync")
    assert existed and cancelled is None
    await engine.complete(held, epoch, None)
    assert await pending_runs(store) == []


async def test_schedules_are_kept_per_key(engine, store):
    """Given two schedules of one job name under different keys, Then each has its
    own run; unscheduling one leaves the other."""
    await engine.every("sync", 60)
    await engine.every("sync", 60, key="sync-b", payload={"b": 1}, queue="other")
    assert len(await pending_runs(store, "sync")) == 1
    [other] = await pending_runs(store, "sync-b")
    assert other["queue"] == "other" and other["payload"] == {"b": 1}
    assert (await engine.unschedule("sync-b"))[0] is True
    assert len(await pending_runs(store, "sync")) == 1


async def test_ensure_schedules_repairs_a_missing_run(engine, store, clock):
    """Given a schedule whose pending run was lost (a crash between two writes),
    When the leader starts and ensures schedules,
    Then one run is created, due at the schedule's due time (or now if that passed);
    a second call creates nothing."""
    run = await engine.every("sync", 60)
    store.jobs.pop(run["id"])  # the crash
    clock.advance(30)
    [repaired] = await engine.ensure_schedules()
    assert repaired["run_at"] == clock() and repaired["schedule"] == "sync"
    assert await engine.ensure_schedules() == []
    assert len(await pending_runs(store)) == 1


async def test_ensure_schedules_keeps_a_future_due_time(engine, store, clock):
    """Given a schedule whose run is running, Then ensure_schedules does nothing;
    When the next run (due T0+60) is lost, Then the repair keeps that due time."""
    await engine.every("sync", 60)
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    assert await engine.ensure_schedules() == []  # the run is running: nothing to do
    await engine.complete(held, epoch, None)
    [nxt] = await pending_runs(store)
    store.jobs.pop(nxt["id"])
    [repaired] = await engine.ensure_schedules()
    assert repaired["run_at"] == T0 + 60


@pytest.mark.parametrize("seconds", [0, -5])
async def test_interval_must_be_positive(engine, seconds):
    """Given an interval <= 0, When every() is declared, Then ValueError."""
    with pytest.raises(ValueError):
        await engine.every("sync", seconds)
