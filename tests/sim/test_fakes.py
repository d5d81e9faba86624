"""The simulator's fakes keep the browser's semantics (scheduler, timers, Web Locks,
BroadcastChannel, the faulty store). If a fake is wrong, the simulation proves nothing."""

import pytest

from brython_jobs.errors import StorageError, StorageFull
from brython_jobs.memory_store import MemoryStore
from brython_jobs.runtime import MAX_TIMER, Signal

from tests.sim.faulty_store import Faults, FaultyStore
from tests.sim.fakes import EPOCH0, Origin, SimRuntime
from tests.sim.scheduler import Context, Scheduler
from tests.sim.trace import Trace


def make(seed=1, tabs=2):
    sched = Scheduler(seed)
    origin = Origin(sched, Trace(sched))
    rts = []
    for i in range(tabs):
        rts.append(SimRuntime(origin, Context(sched, f"t{i}")))
    return sched, origin, rts


# -- scheduler and timers -------------------------------------------------------------------
def test_timers_fire_in_time_order_and_cancel_works():
    """Given three timers, one cancelled, when time passes, then the others fire in
    order at their virtual times."""
    sched, _o, (rt, _) = make()
    fired = []
    rt.call_later(2.0, lambda: fired.append(("b", sched.time)))
    rt.call_later(1.0, lambda: fired.append(("a", sched.time)))
    h = rt.call_later(1.5, lambda: fired.append(("x", sched.time)))
    rt.cancel_call(h)
    sched.run_until(10)
    assert fired == [("a", 1.0), ("b", 2.0)]


def test_webidl_overflow_fires_at_once_and_core_timer_chains():
    """Given a raw timer past 2**31-1 ms, then it fires at once (the browser bug the core
    must handle); given the core's later() for 30 days, then it fires after 30 days."""
    sched, _o, (rt, _) = make()
    fired = []
    rt.call_later(MAX_TIMER + 1, lambda: fired.append(("raw", sched.time)))
    rt.call_later(-5, lambda: fired.append(("negative", sched.time)))
    sched.run_until(1)
    assert fired == [("raw", 0.0), ("negative", 0.0)]
    from brython_jobs.runtime import later
    later(rt, 30 * 86400.0, lambda: fired.append(("long", sched.time)))
    sched.run_until(31 * 86400.0)
    assert fired[2][0] == "long" and abs(fired[2][1] - (1 + 30 * 86400.0)) < 0.5


def test_nested_timers_are_clamped_to_4ms_past_level_5():
    """Given a chain of 0 ms timers each set from the previous one, then the first five
    run at once and later ones at least 4 ms apart."""
    sched, _o, (rt, _) = make()
    times = []

    def tick():
        times.append(sched.time)
        if len(times) < 10:
            rt.call_later(0, tick)
    rt.call_later(0, tick)
    sched.run_until(1)
    gaps = [round(b - a, 6) for a, b in zip(times, times[1:])]
    assert gaps[:5] == [0.0] * 5
    assert all(g >= 0.004 for g in gaps[5:])


def test_hidden_tab_timers_align_to_whole_minutes_and_visible_again_fires_on_time():
    """Given a hidden tab, when it sets a 1 s timer at t=5, then it fires at t=60; when
    a timer is throttled and the tab is shown, then it fires at its own time."""
    sched, _o, (rt, _) = make()
    fired = []
    sched.run_until(5)
    rt.ctx.hidden = True
    rt.call_later(1.0, lambda: fired.append(sched.time))
    sched.run_until(100)
    assert fired == [60.0]
    rt.call_later(10.0, lambda: fired.append(sched.time))   # due 110, throttled to 120
    sched.run_until(112)
    sched.show(rt.ctx)
    sched.run_until(200)
    assert fired == [60.0, 112.0]


def test_frozen_tab_runs_nothing_until_thaw_and_dead_tab_never():
    """Given a frozen tab, its timers wait until thaw; a killed tab's timers never run."""
    sched, _o, (a, b) = make()
    fired = []
    a.call_later(1, lambda: fired.append(("a", sched.time)))
    b.call_later(1, lambda: fired.append(("b", sched.time)))
    sched.freeze(a.ctx)
    sched.kill(b.ctx)
    sched.run_until(50)
    assert fired == []
    sched.thaw(a.ctx)
    sched.run_until(51)
    assert fired == [("a", 50.0)]


def test_tasks_await_futures_and_report_exceptions():
    """Given a spawned coroutine that sleeps then raises, then its exception is reported
    with its place; a Signal wakes a waiter or times out."""
    sched, origin, (rt, _) = make()
    seen = []
    origin.on_report = lambda r, where, exc: seen.append((where, str(exc), sched.time))

    async def body():
        await rt.sleep(2)
        raise ValueError("boom")
    rt.spawn(body(), "body")
    sig = Signal(rt)
    results = []

    async def waiter():
        results.append(await sig.wait(5))
        results.append(await sig.wait(5))
    rt.spawn(waiter(), "waiter")
    rt.call_later(1, sig.set)
    sched.run_until(20)
    assert seen == [("body", "boom", 2.0)]
    assert results == [True, False]


def run_trace(seed):
    sched, origin, rts = make(seed, 3)
    log = []
    for i, rt in enumerate(rts):
        for k in range(5):
            rt.call_later(rt.random() * 3, lambda i=i, k=k: log.append((i, k, sched.time)))
        rt.channel("c", lambda m, i=i: log.append(("msg", i, m["n"], sched.time)))
    for n in range(5):
        rts[0].channels[0].post({"n": n})
    sched.run_until(10)
    return log


def test_same_seed_same_trace_other_seed_other_trace():
    """Given the same seed twice, then the runs are identical; another seed differs."""
    assert run_trace(7) == run_trace(7)
    assert run_trace(7) != run_trace(8)


# -- Web Locks -------------------------------------------------------------------------------
def lock_log(rt, log, name="L", steal=False):
    tab = rt.ctx.name
    return rt.locks.request(name, lambda: log.append((tab, "granted")),
                            lambda err: log.append((tab, "ended", err)), steal=steal)


def test_locks_are_granted_in_fifo_order():
    """Given three requests, then they are granted one after another in request order."""
    sched, _o, rts = make(tabs=3)
    log = []
    reqs = [lock_log(rt, log) for rt in rts]
    sched.run_until(1)
    reqs[0].release()
    sched.run_until(2)
    reqs[1].release()
    sched.run_until(3)
    assert log == [("t0", "granted"), ("t0", "ended", None), ("t1", "granted"),
                   ("t1", "ended", None), ("t2", "granted")]


def test_steal_grants_at_once_and_aborts_the_holder():
    """Given a holder and a queued tab, when a third steals, then it holds at once, the
    holder's request ends with AbortError and the queued one still waits."""
    sched, origin, rts = make(tabs=3)
    log = []
    lock_log(rts[0], log)
    queued = lock_log(rts[1], log)
    sched.run_until(1)
    lock_log(rts[2], log, steal=True)
    assert origin.locks.holder("L") is rts[2].ctx
    sched.run_until(2)
    assert ("t0", "ended", "AbortError") in log and ("t2", "granted") in log
    assert queued.state == "queued"


def test_withdrawn_request_ends_with_abort_error():
    """Given a queued request, when it is released (withdrawn), then it ends with
    AbortError and is never granted."""
    sched, _o, rts = make()
    log = []
    lock_log(rts[0], log)
    waiting = lock_log(rts[1], log)
    waiting.release()
    sched.run_until(1)
    assert log == [("t0", "granted"), ("t1", "ended", "AbortError")]


def test_locks_survive_freeze_and_go_with_a_crash():
    """Given a frozen holder, then it keeps the lock; when it crashes, then the next
    queued tab is granted it."""
    sched, origin, rts = make()
    log = []
    lock_log(rts[0], log)
    lock_log(rts[1], log)
    sched.run_until(1)
    sched.freeze(rts[0].ctx)
    sched.run_until(100)
    assert origin.locks.holder("L") is rts[0].ctx
    sched.kill(rts[0].ctx)
    origin.locks.drop(rts[0].ctx)
    sched.run_until(101)
    assert log[-1] == ("t1", "granted")

    async def ask():
        log.append(("held", await rts[1].locks.held("L")))
    rts[1].spawn(ask(), "ask")
    sched.run_until(102)
    assert log[-1] == ("held", True)


# -- BroadcastChannel ---------------------------------------------------------------------------
def test_channel_order_copies_and_no_echo():
    """Given many posts from one tab, then every other tab gets copies in order and the
    sender gets none."""
    sched, _o, rts = make(tabs=3)
    got = {0: [], 1: [], 2: []}
    chans = [rt.channel("c", lambda m, i=i: got[i].append(m)) for i, rt in enumerate(rts)]
    msg = {"n": 0, "list": [1]}
    for n in range(50):
        msg["n"] = n
        chans[0].post(msg)
    msg["list"].append(2)   # a copy was sent: later changes do not travel
    sched.run_until(5)
    assert got[0] == []
    assert [m["n"] for m in got[1]] == list(range(50)) == [m["n"] for m in got[2]]
    assert got[1][0]["list"] == [1]


def test_channel_lost_when_closed_queued_when_frozen():
    """Given a closed receiver, then messages to it are lost; a frozen receiver gets
    them after thaw."""
    sched, _o, rts = make(tabs=3)
    got = {1: [], 2: []}
    a = rts[0].channel("c", lambda m: None)
    b = rts[1].channel("c", lambda m: got[1].append(m["n"]))
    rts[2].channel("c", lambda m: got[2].append(m["n"]))
    b.close()
    sched.freeze(rts[2].ctx)
    a.post({"n": 1})
    sched.run_until(5)
    assert got == {1: [], 2: []}
    sched.thaw(rts[2].ctx)
    sched.run_until(6)
    assert got == {1: [], 2: [1]}


# -- faulty store ---------------------------------------------------------------------------------
def store_for(rates, seed=3):
    sched, origin, (rt, _) = make(seed)
    inner = MemoryStore()
    seen = []
    store = FaultyStore(inner, rt, Faults(sched.rng, **rates),
                        observer=lambda s, op, jb, mb: seen.append(op))
    return sched, rt, inner, store, seen


def put_job(tx):
    tx.put({"id": "j1", "status": "pending", "queue": "q", "run_at": 0, "priority": 0,
            "seq": 1, "npri": 0, "t": 0})
    return "done"


@pytest.mark.parametrize("kind,exc_type", [("transient", StorageError),
                                           ("full", StorageFull),
                                           ("commit", StorageError)])
def test_a_failing_transaction_writes_nothing(kind, exc_type):
    """Given a store that always fails writes with ``kind``, when a transaction puts a
    record, then it raises a StorageError marked injected and nothing is stored."""
    sched, rt, inner, store, seen = store_for({kind: 1.0})
    out = []

    async def go():
        try:
            await store.atomic(put_job, meta_keys=("m",))
        except Exception as exc:
            out.append(exc)
    rt.spawn(go(), "go")
    sched.run_until(5)
    assert isinstance(out[0], exc_type) and out[0].injected
    assert inner.jobs == {} and inner.writes == 0 and seen == []


def test_a_working_store_commits_after_latency_and_reports_the_write():
    """Given no faults, then a transaction commits, is observed, and takes virtual time."""
    sched, rt, inner, store, seen = store_for({})
    out = []

    async def go():
        out.append(await store.atomic(put_job))
        out.append((await store.get("j1"))["id"])
        out.append(sched.time)
    rt.spawn(go(), "go")
    sched.run_until(5)
    assert out[:2] == ["done", "j1"] and out[2] > 0
    assert seen == ["atomic"] and "j1" in inner.jobs


def test_a_transaction_created_before_a_freeze_keeps_its_place_and_a_dead_tabs_aborts():
    """Given a tab that starts a transaction and is frozen before its latency passed,
    when time passes, then the transaction commits in its place (IndexedDB orders
    readwrite transactions by creation) while the tab learns of it only after the thaw;
    given a tab that dies before its transaction ran, then nothing is written."""
    sched, rt, inner, store, seen = store_for({})
    ctx = rt.ctx
    out = []

    async def go():
        out.append(await store.atomic(put_job))
        out.append(sched.time)
    rt.spawn(go(), "go")
    sched.run_until(0.0001)  # the page ran: its transaction is created, not yet run
    assert seen == []
    sched.freeze(ctx)
    sched.run_until(5)
    assert "j1" in inner.jobs and seen == ["atomic"] and out == []
    sched.thaw(ctx)
    sched.run_until(6)
    assert out[0] == "done" and out[1] >= 5

    sched, rt, inner, store, seen = store_for({})
    rt.spawn(store.atomic(put_job), "go")
    sched.run_until(0.0001)
    sched.kill(rt.ctx)
    sched.run_until(5)
    assert inner.jobs == {} and seen == []


def test_wall_clock_steps_but_monotonic_does_not():
    """Given a wall-clock step back of an hour, then now() goes back, monotonic() not."""
    sched, origin, (rt, _) = make()
    sched.run_until(10)
    assert rt.now() == EPOCH0 + 10
    m = rt.monotonic()
    origin.step_clock(-3600)
    sched.run_until(11)
    assert rt.now() == EPOCH0 + 11 - 3600 and rt.monotonic() == m + 1


def test_ids_sort_in_creation_order_within_a_tab_even_after_a_step_back():
    """Given ids made before and after a wall-clock step back, then they still sort."""
    sched, origin, (rt, _) = make()
    ids = [rt.new_id(), rt.new_id()]
    origin.step_clock(-60)
    ids.append(rt.new_id())
    assert ids == sorted(ids) and len(set(ids)) == 3
