"""Debounced and throttled triggers in the core: engine.debounce / engine.throttle.

Each call here stands for one batch a tab writes: its first and last call times and the
latest payload."""

import pytest

from brython_jobs.engine import job_spec

T0 = 1000.0


def spec(payload=None, key="rebuild", ttl=None, now=T0):
    return job_spec("rebuild", payload, key=key, ttl=ttl, now=now)


async def pending(store):
    return await store.query(status="pending", limit=None)


# -- debounce -----------------------------------------------------------------------

async def test_calls_of_a_burst_join_one_pending_job(engine, store, clock):
    """Given wait 2s and no max_wait,
    When calls come at T0, T0+1 and T0+1.5,
    Then one job exists, due 2s after the last call, carrying the last payload."""
    rec, created = await engine.debounce(spec({"n": 1}), T0, T0, 2.0, None)
    assert created and rec["run_at"] == T0 + 2
    clock.set(T0 + 1)
    rec2, created = await engine.debounce(spec({"n": 2}), T0 + 1, T0 + 1, 2.0, None)
    assert not created and rec2["id"] == rec["id"]
    assert rec2["run_at"] == T0 + 3
    clock.set(T0 + 1.5)
    await engine.debounce(spec({"n": 3}), T0 + 1.5, T0 + 1.5, 2.0, None)
    [job] = await pending(store)
    assert job["id"] == rec["id"]
    assert job["run_at"] == T0 + 3.5
    assert job["payload"] == {"n": 3}


async def test_max_wait_caps_the_due_time_from_the_first_call(engine, store, clock):
    """Given wait 2s and max_wait 5s,
    When calls come every 1.5s from T0 to T0+4.5,
    Then the job is due at T0+5 (first call + max_wait), not T0+6.5."""
    for t in (0.0, 1.5, 3.0, 4.5):
        clock.set(T0 + t)
        rec, _ = await engine.debounce(spec(t), T0 + t, T0 + t, 2.0, 5.0)
    assert rec["run_at"] == T0 + 5
    [job] = await pending(store)
    assert job["run_at"] == T0 + 5 and job["payload"] == 4.5


async def test_an_earlier_first_call_from_another_tab_moves_the_cap(make_engine, clock):
    """Given a burst stored with first call T0+2,
    When another tab's batch began at T0 (written later),
    Then max_wait counts from T0."""
    tab_a, tab_b = make_engine(), make_engine()
    clock.set(T0 + 2)
    await tab_a.debounce(spec(1), T0 + 2, T0 + 2, 4.0, 5.0)
    clock.set(T0 + 4)
    rec, _ = await tab_b.debounce(spec(2), T0, T0 + 3.9, 4.0, 5.0)
    assert rec["run_at"] == T0 + 5  # min(T0+3.9+4, T0+5)


async def test_a_call_while_the_job_runs_starts_a_new_burst(engine, store, clock):
    """Given the burst's job is processing,
    When another call comes, Then a new pending job is created for a new burst, due
    wait after that call, so the change is not lost."""
    first, _ = await engine.debounce(spec(1), T0, T0, 2.0, None)
    clock.set(T0 + 2)
    epoch = await engine.become_leader("tab")
    held, _ = await engine.claim_next("default", epoch)
    assert held["id"] == first["id"]
    clock.set(T0 + 2.5)
    rec, created = await engine.debounce(spec(2), T0 + 2.5, T0 + 2.5, 2.0, None)
    assert created and rec["id"] != first["id"]
    assert rec["run_at"] == T0 + 4.5 and rec["payload"] == 2
    assert rec["trigger"]["first"] == T0 + 2.5


async def test_a_debounced_job_keeps_its_ttl_relative_to_the_due_time(engine, clock):
    """Given a debounced job with ttl 10, When its due time moves by a later call,
    Then its expiry moves with it."""
    rec, _ = await engine.debounce(spec(1, ttl=10), T0, T0, 2.0, None)
    assert rec["expires_at"] == T0 + 12
    clock.set(T0 + 1)
    rec, _ = await engine.debounce(spec(2, ttl=10), T0 + 1, T0 + 1, 2.0, None)
    assert rec["expires_at"] == T0 + 13


async def test_debounce_keys_are_separate(engine, store):
    """Given calls under keys a and b, Then two separate pending jobs."""
    await engine.debounce(spec(1, key="a"), T0, T0, 2.0, None)
    await engine.debounce(spec(2, key="b"), T0, T0, 2.0, None)
    assert len(await pending(store)) == 2


# -- throttle -----------------------------------------------------------------------

async def test_the_first_throttled_call_runs_at_once(engine):
    """Given no earlier run, When called, Then a run is created, due now."""
    rec, created = await engine.throttle(spec("first"), 10.0)
    assert created and rec["run_at"] == T0 and rec["payload"] == "first"


async def test_calls_while_a_run_is_pending_update_its_payload(engine, store, clock):
    """Given a throttled run pending (due T0),
    When more calls come before it starts, Then the same run carries the latest
    payload and its due time does not move."""
    rec, _ = await engine.throttle(spec(1), 10.0)
    clock.advance(0.2)
    again, created = await engine.throttle(spec(2), 10.0)
    assert not created and again["id"] == rec["id"] and again["run_at"] == T0
    [job] = await pending(store)
    assert job["payload"] == 2


async def test_a_call_inside_the_interval_gives_one_trailing_run(engine, store, clock):
    """Given interval 10s and a run due at T0 that has started,
    When calls come at T0+3 and T0+4,
    Then one trailing run is due at T0+10 with the latest payload; and a call long
    after that runs at once."""
    await engine.throttle(spec(1), 10.0)
    epoch = await engine.become_leader("tab")
    held, _ = await engine.claim_next("default", epoch)
    clock.set(T0 + 3)
    trailing, created = await engine.throttle(spec(2), 10.0)
    assert created and trailing["run_at"] == T0 + 10
    clock.set(T0 + 4)
    await engine.throttle(spec(3), 10.0)
    [job] = await pending(store)
    assert job["id"] == trailing["id"] and job["payload"] == 3
    await engine.complete(held, epoch, None)

    clock.set(T0 + 10)
    held, _ = await engine.claim_next("default", epoch)
    await engine.complete(held, epoch, None)
    clock.set(T0 + 15)
    nxt, _ = await engine.throttle(spec(4), 10.0)
    assert nxt["run_at"] == T0 + 20  # previous due T0+10, plus the interval
    assert (await engine.claim_next("default", epoch))[0] is None  # not before T0+20
    clock.set(T0 + 100)
    held, _ = await engine.claim_next("default", epoch)  # starts at T0+100
    await engine.complete(held, epoch, None)
    late, _ = await engine.throttle(spec(5), 10.0)
    assert late["run_at"] == T0 + 110  # one interval after that start
    clock.set(T0 + 500)
    held, _ = await engine.claim_next("default", epoch)
    await engine.complete(held, epoch, None)
    clock.set(T0 + 600)
    later, _ = await engine.throttle(spec(6), 10.0)
    assert later["run_at"] == T0 + 600  # long after the last start: at once


@pytest.mark.parametrize("interval", [10.0, 0.0])
async def test_throttle_is_per_key(engine, interval):
    """Given a run pending under key a, When key b is called,
    Then b gets its own run, due now."""
    a, _ = await engine.throttle(spec(1, key="a"), interval)
    b, created = await engine.throttle(spec(2, key="b"), interval)
    assert created and a["id"] != b["id"] and b["run_at"] == T0
