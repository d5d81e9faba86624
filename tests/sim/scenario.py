"""Scripted runs: the same world, tabs, fakes and invariants as the seeded runs, but the
actions are a fixed list, for a regression test that tells one story.

    res = scenario.run([(1.0, hide(0)), (2.0, enqueue(1, "work", delay=5.0))], tabs=2)
    assert res.ok, res.describe()

Tab 0 is the first to ask for the lock, so it leads unless the script changes that.
"""

from . import actions
from .world import Settings, World


def run(script, tabs=2, config=None, duration=None, faults=False, seed=0):
    """Run ``script`` ([(virtual time, action)]) then the quiet period; a ``Result``."""
    last = max([when for when, _fn in script] or [0.0])
    settings = Settings(duration=duration if duration is not None else last + 1.0,
                        tabs=(tabs, tabs), faults=faults, script=script,
                        config=dict(config or {}), quiet_freeze=0.0)
    return World(seed, settings).run()


def _page(tab, act):
    """Page code runs once its tab's queue has started (as a page awaits start())."""
    def when_started(world):
        if world.tabs[tab].started:
            act(world)
        else:
            world.sched.later(0.01, world.ctx, lambda: when_started(world))
    return when_started


def enqueue(tab, name, payload=None, **options):
    """Page code in tab ``tab`` enqueues a job (``payload`` decides what it does)."""
    @(lambda f: _page(tab, f))
    def act(world):
        t = world.tabs[tab]
        spec = dict(options, name=name, payload=payload or {"n": 0})
        actions.user(world, t, "enqueue", lambda: t.jobs.enqueue(**spec), spec)
    return act


def cancel_redrive_running(tab):
    """Page code in tab ``tab`` cancels the running job and redrives it at once."""
    @(lambda f: _page(tab, f))
    def act(world):
        t = world.tabs[tab]
        running = [rec["id"] for rec in world.memory.jobs.values()
                   if rec["status"] == "processing"]
        if not running:
            return

        async def both():
            await t.jobs.cancel(running[0])
            return await t.jobs.redrive(running[0])
        actions.user(world, t, "cancel+redrive", both, running[0])
    return act


def _tab_action(fn):
    def make(tab):
        return lambda world: fn(world, world.tabs[tab])
    return make


hide = _tab_action(actions.hide)
show = _tab_action(actions.show)
freeze = _tab_action(lambda world, tab: actions.freeze(world, tab, warned=True))
freeze_unwarned = _tab_action(lambda world, tab: actions.freeze(world, tab, warned=False))
thaw = _tab_action(actions.thaw)
close = _tab_action(lambda world, tab: actions.close(world, tab, crash=False))
crash = _tab_action(lambda world, tab: actions.close(world, tab, crash=True))


def fail_store(tab, kind, count=1, ops=None):
    """Tab ``tab``'s next ``count`` store operations (of ``ops``) fail with ``kind``."""
    def act(world):
        world.tabs[tab].faults.force(kind, count, ops)
        world.trace.add(world.tabs[tab].name, "faults forced", f"{kind} x{count} {ops}")
    return act


def step_clock(delta):
    def act(world):
        world.origin.step_clock(delta)
        world.trace.add("world", "clock step", f"{delta:+.0f}s")
    return act


def restart(tab):
    """Page code in tab ``tab`` stops its queue and starts it again."""
    @(lambda f: _page(tab, f))
    def act(world):
        t = world.tabs[tab]

        async def both():
            await t.jobs.stop()
            await t.jobs.start()
        actions.user(world, t, "stop+start", both, "")
    return act


def pause(tab, queue):
    @(lambda f: _page(tab, f))
    def act(world):
        t = world.tabs[tab]
        actions.user(world, t, "pause", lambda: t.jobs.pause(queue), queue)
    return act


def resume(tab, queue):
    @(lambda f: _page(tab, f))
    def act(world):
        t = world.tabs[tab]
        actions.user(world, t, "resume", lambda: t.jobs.resume(queue), queue)
    return act


def with_record(tab, what, pick, call):
    """Page code in tab ``tab`` acts on the first stored record ``pick(rec)`` accepts:
    ``call(jobs, job_id)`` returns the coroutine to await."""
    def act(world):
        t = world.tabs[tab]
        ids = [rec["id"] for rec in world.memory.jobs.values() if pick(rec)]
        if ids:
            actions.user(world, t, what, lambda: call(t.jobs, ids[0]), ids[0])
        else:
            world.trace.add(t.name, what, "nothing to act on")
    return act


def every(tab, name, seconds, key):
    @(lambda f: _page(tab, f))
    def act(world):
        t = world.tabs[tab]
        actions.user(world, t, "every", lambda: t.jobs.every(name, seconds, {"n": -1},
                                                             key=key), (key, seconds))
    return act


def freeze_after_claim(tab, queue, thaw_after=0.09, completion=0.4):
    """Once: when tab ``tab`` commits a claim of a job of ``queue`` (pending ->
    processing), its page gets the ``freeze`` event before that write's completion
    reaches it (the completion takes ``completion`` s: a slow disk, a busy tab), and is
    thawed ``thaw_after`` s later, so the claim returns to the tab after it led again."""
    def act(world):
        t = world.tabs[tab]
        observe = t.store.observer

        def hook(store, op, jobs_before, meta_before):
            observe(store, op, jobs_before, meta_before)
            claimed = [job_id for job_id, rec in world.memory.jobs.items()
                       if rec["status"] == "processing" and rec["queue"] == queue
                       and (jobs_before.get(job_id) or {}).get("status") == "pending"]
            if not claimed or store.observer is not hook:
                return
            store.observer = observe
            store.completion_delay = completion
            world.trace.add(t.name, "claim committed", f"{claimed[0][-6:]}; freeze next")
            world.sched.later(0.0, world.ctx, lambda: freeze(tab)(world))
            world.sched.later(thaw_after, world.ctx, lambda: thaw(tab)(world))
        t.store.observer = hook
    return act


def pause_then_stop(tab, queue, paused=True):
    """Page code in tab ``tab`` pauses (``paused=False``: resumes) ``queue`` and, while
    that write is in flight, stops its queue (a page turning background work off)."""
    @(lambda f: _page(tab, f))
    def act(world):
        t = world.tabs[tab]
        call = t.jobs.pause if paused else t.jobs.resume
        actions.user(world, t, "pause" if paused else "resume", lambda: call(queue), queue)
        actions.user(world, t, "stop", t.jobs.stop, "")
    return act



def freeze_next_to_write(op="atomic"):
    """Once: the first tab that starts an ``op`` transaction after this action is frozen
    without warning right after it started it (a hung main thread), before that
    transaction's latency passed."""
    def act(world):
        hooks = []

        def hook(t):
            store = t.store
            start = store._op

            def hooked(name, call):
                if name == op and hooks:
                    for tab, original in hooks:
                        tab.store._op = original
                    del hooks[:]
                    world.frozen_at_write = t
                    world.trace.add(t.name, "transaction started", f"{op}; freeze next")
                    world.sched.later(0.0, world.ctx,
                                      lambda: actions.freeze(world, t, warned=False))
                return start(name, call)
            hooks.append((t, start))
            store._op = hooked
        for t in world.tabs:
            if t.ctx.alive:
                hook(t)
    return act


def close_leader(world):
    """The tab that the stored leader record names closes."""
    tab = actions.leader_tab(world)
    if tab is not None:
        actions.close(world, tab, crash=False)


def thaw_frozen_at_write(world):
    """Thaw the tab ``freeze_next_to_write`` froze."""
    actions.thaw(world, world.frozen_at_write)
