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
                        config=dict(config or {}))
    return World(seed, settings).run()


def enqueue(tab, name, payload=None, **options):
    """Page code in tab ``tab`` enqueues a job (``payload`` decides what it does)."""
    def act(world):
        t = world.tabs[tab]
        spec = dict(options, name=name, payload=payload or {"n": 0})
        actions.user(world, t, "enqueue", lambda: t.jobs.enqueue(**spec), spec)
    return act


def cancel_redrive_running(tab):
    """Page code in tab ``tab`` cancels the running job and redrives it at once."""
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
freeze = _tab_action(actions.freeze)
thaw = _tab_action(actions.thaw)
close = _tab_action(lambda world, tab: actions.close(world, tab, crash=False))
crash = _tab_action(lambda world, tab: actions.close(world, tab, crash=True))


def step_clock(delta):
    def act(world):
        world.origin.step_clock(delta)
        world.trace.add("world", "clock step", f"{delta:+.0f}s")
    return act
