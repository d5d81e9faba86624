"""Regression tests for issue 10's trigger findings (12, 17, 18) and the purge of
finished jobs and throttle state (finding 9's unbounded growth)."""

from brython_jobs.engine import THROTTLE, job_spec

T0 = 1000.0


def spec(payload=None, key="rebuild", now=T0):
    return job_spec("rebuild", payload, key=key, now=now)


async def lead(engine):
    return await engine.become_leader("tab")


# -- finding 12 -------------------------------------------------------------------------

async def test_finding_12_a_debounced_call_keeps_the_retry_backoff(make_engine, store, clock):
    """Given a debounced job whose first attempt failed and waits 60s for its retry
    (due T0+62), When a debounced call joins it at T0+3 (debounce due T0+5),
    Then the job keeps its retry time and takes the new payload; a call whose debounce
    due time is later than the backoff moves it later."""
    engine = make_engine(backoff=60.0)
    rec, _ = await engine.debounce(spec(1), T0, T0, 2.0, None)
    clock.set(T0 + 2)
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    retry = await engine.fail(held, epoch, "handler_error", "boom")
    assert retry["status"] == "pending" and retry["run_at"] == T0 + 62
    clock.set(T0 + 3)
    joined, created = await engine.debounce(spec(2, now=T0 + 3), T0 + 3, T0 + 3, 2.0, None)
    assert not created and joined["id"] == rec["id"]
    assert joined["run_at"] == T0 + 62 and joined["payload"] == 2
    clock.set(T0 + 61)
    later, _ = await engine.debounce(spec(3, now=T0 + 61), T0 + 61, T0 + 61, 2.0, None)
    assert later["run_at"] == T0 + 63


# -- finding 17 -------------------------------------------------------------------------

async def test_finding_17_after_a_backward_clock_step_the_newest_write_wins(engine, clock):
    """Given a debounced burst whose last call was at T0 (payload A),
    When the wall clock steps back an hour and a call comes (payload B),
    Then the job carries B and runs `wait` after that call on the new clock (not an
    hour later), with first <= last."""
    await engine.debounce(spec("A"), T0, T0, 2.0, 30.0)
    back = T0 - 3600
    clock.set(back)
    rec, created = await engine.debounce(spec("B", now=back), back, back, 2.0, 30.0)
    assert not created and rec["payload"] == "B"
    assert rec["run_at"] == back + 2.0
    assert rec["trigger"]["first"] <= rec["trigger"]["last"] == back


async def test_finding_17_the_latest_call_wins_even_when_written_late(make_engine, clock):
    """Given tab A wrote a batch whose last call was at T0+1 (payload A),
    When tab B's batch, whose last call was at T0+0.5 (payload B), is written after it
    (no clock step; batches of different tabs are written out of call order), Then A's
    payload stays (the latest call wins, as calls from every tab join one burst) and
    the job stays due `wait` after the latest call."""
    tab_a, tab_b = make_engine(), make_engine()
    clock.set(T0 + 1.05)
    await tab_a.debounce(spec("A"), T0 + 1, T0 + 1, 2.0, None)
    clock.set(T0 + 1.1)
    rec, created = await tab_b.debounce(spec("B"), T0 + 0.5, T0 + 0.5, 2.0, None)
    assert not created and rec["payload"] == "A"
    assert rec["run_at"] == T0 + 3


# -- finding 18 -------------------------------------------------------------------------

async def test_finding_18_throttle_spaces_starts_not_due_times(engine, store, clock):
    """Given interval 60s and a throttled run due at T0 that starts late, at T0+50,
    When a call comes at T0+60 (after the run finished),
    Then the next run is due at T0+110, one interval after the previous START."""
    first, _ = await engine.throttle(spec(1), 60.0)
    epoch = await lead(engine)
    clock.set(T0 + 50)
    held, _ = await engine.claim_next("default", epoch)
    assert held["id"] == first["id"]
    clock.set(T0 + 55)
    await engine.complete(held, epoch, None)
    clock.set(T0 + 60)
    nxt, created = await engine.throttle(spec(2, now=T0 + 60), 60.0)
    assert created and nxt["run_at"] == T0 + 110
    assert (await engine.claim_next("default", epoch))[0] is None


# -- finding 9: purge of finished jobs and throttle state -------------------------------

async def finish_three(engine, enqueue):
    """One completed, one failed and one cancelled job, all finished at the clock's
    time. Returns their ids."""
    done = await enqueue("done")
    bad = await enqueue("bad", queue="b", retries=0)
    gone = await enqueue("gone", queue="c")
    epoch = await lead(engine)
    held, _ = await engine.claim_next("default", epoch)
    await engine.complete(held, epoch, None)
    held, _ = await engine.claim_next("b", epoch)
    await engine.fail(held, epoch, "handler_error", "boom")
    await engine.cancel(gone["id"])
    return done["id"], bad["id"], gone["id"]


async def test_finding_09_purge_finished_deletes_old_failed_and_cancelled_jobs(
        make_engine, store, clock):
    """Given keep_completed 100 and keep_failed 200, and a completed, a failed and a
    cancelled job finished at T0,
    When purge_finished runs at T0+150, Then only the completed one is gone;
    at T0+250 all three are gone."""
    engine = make_engine(keep_completed=100, keep_failed=200)
    enq = Enqueuer(engine, clock)
    done, bad, gone = await finish_three(engine, enq)
    clock.set(T0 + 150)
    await engine.purge_finished()
    assert await store.get(done) is None
    assert await store.get(bad) is not None and await store.get(gone) is not None
    clock.set(T0 + 250)
    await engine.purge_finished()
    assert await store.query(limit=None) == []


async def test_keep_failed_none_keeps_failed_and_cancelled_jobs(make_engine, store, clock):
    """Given the default keep_failed (None), When purge_finished runs much later,
    Then failed and cancelled jobs are kept and purge_completed still works."""
    engine = make_engine(keep_completed=100)
    enq = Enqueuer(engine, clock)
    done, bad, gone = await finish_three(engine, enq)
    clock.set(T0 + 10 ** 6)
    await engine.purge_finished()
    assert await store.get(done) is None
    assert await store.get(bad) is not None and await store.get(gone) is not None
    assert await engine.purge_completed() == 0


async def test_finding_09_stale_throttle_state_is_deleted(engine, store, clock):
    """Given throttle state for key a (interval 10, last start T0), key b (interval
    1000) and key c (interval 10, a trailing run pending),
    When purge_finished runs at T0+20,
    Then a's entry is deleted (older than its interval, no pending run); b's and c's
    are kept."""
    epoch = await lead(engine)
    for key, interval in (("a", 10.0), ("b", 1000.0), ("c", 10.0)):
        await engine.throttle(spec(key, key=key), interval)
        held, _ = await engine.claim_next("default", epoch)
        await engine.complete(held, epoch, None)
    await engine.throttle(spec("c2", key="c"), 10.0)  # trailing run, due T0+10
    clock.set(T0 + 5)
    assert set(await store.meta_prefix(THROTTLE)) == {THROTTLE + k for k in "abc"}
    clock.set(T0 + 20)
    # c's trailing run is pending still (the leader has not started it yet)
    await engine.purge_finished()
    assert set(await store.meta_prefix(THROTTLE)) == {THROTTLE + "b", THROTTLE + "c"}


class Enqueuer:
    """``await Enqueuer(engine, clock)(name, **options)``: enqueue through ``engine``."""

    def __init__(self, engine, clock):
        self.engine = engine
        self.clock = clock

    async def __call__(self, name, payload=None, **options):
        spec_ = job_spec(name, payload, now=self.clock(),
                         default_retries=self.engine.config.retries, **options)
        return (await self.engine.enqueue_many([spec_]))[0][0]
