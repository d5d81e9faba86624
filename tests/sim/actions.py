"""The actions of a run, drawn from the seed: tabs open, close (pagehide, then gone),
crash (gone, no pagehide), freeze and thaw, hide and show; the wall clock steps; page code
enqueues (delays, priorities, ttls, keys, queues, batches), cancels, redrives, pauses and
resumes, calls debounced and throttled triggers, declares and removes schedules."""

from brython_jobs.errors import StorageError

from .faulty_store import injected

QUEUES = ("default", "a", "b", "c")
LONG = 30 * 86400.0   # a delay past the WebIDL timer limit


def _usable(world):
    return [t for t in world.tabs if t.usable()]


def _alive(world):
    return [t for t in world.tabs if t.ctx.alive]


def leader_tab(world):
    leader = world.memory.meta.get("leader") or {}
    for tab in world.tabs:
        if tab.ctx.alive and tab.jobs.tab_id == leader.get("tab"):
            return tab
    return None


def act(world):
    """One action, chosen by weight among those that make sense now."""
    r = world.rng
    roll = r.random() * 100
    alive = _alive(world)
    tab = r.choice(alive) if alive else None
    if roll < 4 and len(world.tabs) < world.settings.max_tabs:
        world.open_tab()
    elif roll < 7 and len(alive) > 1:
        close(world, tab, crash=False)
    elif roll < 9 and len(alive) > 1:
        close(world, tab, crash=True)
    elif roll < 12 and tab is not None:
        (thaw if tab.ctx.frozen else freeze)(world, tab)
    elif roll < 15:
        # The leader goes to the background and freezes, often while running a job.
        lead = leader_tab(world)
        if lead is not None and not lead.ctx.frozen and len(alive) > 1:
            freeze(world, lead)
        elif tab is not None and tab.ctx.frozen:
            thaw(world, tab)
    elif roll < 20 and tab is not None and not tab.ctx.frozen:
        (show if tab.ctx.hidden else hide)(world, tab)
    elif roll < 22:
        delta = r.choice([-3600.0, -30.0, -4.0, 4.0, 30.0, 3600.0])
        world.origin.step_clock(delta)
        world.trace.add("world", "clock step", f"{delta:+.0f}s")
    else:
        tab_action(world, roll)


def tab_action(world, roll):
    r = world.rng
    tabs = _usable(world)
    if not tabs:
        return
    tab = r.choice(tabs)
    if roll < 55:
        spec = job(world)
        user(world, tab, "enqueue", lambda: tab.jobs.enqueue(**spec), spec)
    elif roll < 60:
        specs = [job(world, queue="b"), job(world, queue="b", delay=3600.0)]
        user(world, tab, "enqueue_many", lambda: tab.jobs.enqueue_many(specs), specs)
    elif roll < 63:
        ids = [i for i in world.known if i not in world.checker.purged]
        if ids:
            job_id = r.choice(ids[-12:])
            user(world, tab, "cancel", lambda: tab.jobs.cancel(job_id), job_id)
    elif roll < 66:
        # Cancel a running job and redrive it at once: the leader may claim it again
        # while the cancelled attempt's handler still runs.
        running = [rec["id"] for rec in world.memory.jobs.values()
                   if rec["status"] == "processing"]
        if running:
            job_id = r.choice(running)

            async def cancel_redrive():
                await tab.jobs.cancel(job_id)
                return await tab.jobs.redrive(job_id)
            user(world, tab, "cancel+redrive", cancel_redrive, job_id)
    elif roll < 71:
        done = [rec["id"] for rec in world.memory.jobs.values()
                if rec["status"] in ("failed", "cancelled")]
        if done:
            job_id = r.choice(done)
            user(world, tab, "redrive", lambda: tab.jobs.redrive(job_id), job_id)
    elif roll < 75:
        queue = r.choice(QUEUES[1:])
        paused = queue in (world.memory.meta.get("paused") or [])
        fn = tab.jobs.resume if paused else tab.jobs.pause
        user(world, tab, "resume" if paused else "pause", lambda: fn(queue), queue)
    elif roll < 87:
        n = r.randint(0, 999)
        trig = tab.debounce if roll < 82 else tab.throttle
        world.trace.add(tab.name, "trigger", f"{trig.kind} n={n}")
        world.sched.run_callable(tab.ctx, lambda: trig({"n": n}))
    elif roll < 92:
        key = r.choice(["s1", "s2"])
        seconds = r.choice([3.0, 8.0, 20.0])
        user(world, tab, "every", lambda: tab.jobs.every(
            "quick", seconds, {"n": -1}, queue=r.choice(QUEUES), key=key), (key, seconds))
    elif roll < 94:
        key = r.choice(["s1", "s2"])
        user(world, tab, "unschedule", lambda: tab.jobs.unschedule(key), key)
    else:
        job_id = r.choice(world.known) if world.known else None
        if job_id is not None:
            user(world, tab, "get", lambda: tab.jobs.get(job_id), job_id)


def job(world, queue=None, delay="draw"):
    """An enqueue request: what the job will do is in its payload."""
    r = world.rng
    silence = world.config["leader_silence"]
    name = r.choices(["quick", "work", "slow", "capped", "ghost"], [30, 40, 8, 15, 2])[0]
    payload = {"n": r.randint(0, 999)}
    if name == "work":
        payload.update(t=r.uniform(0.05, 3.0), fails=r.choice([0, 0, 1, 2, 9]),
                       progress=r.random() < 0.4)
    elif name == "slow":
        payload.update(t=r.uniform(1.1, 1.6) * silence, progress=True)
    elif name == "capped":
        payload.update(t=r.uniform(0.2, 4.0))
    if delay == "draw":
        delay = r.choices([None, 0.0, 1.0, 5.0, 20.0, LONG], [40, 10, 20, 15, 10, 5])[0]
    spec = {"name": name, "payload": payload, "queue": queue or r.choice(QUEUES),
            "priority": r.choice([0, 0, 0, 1, 5, -2]), "delay": delay,
            "ttl": r.choices([None, 1.0, 10.0, 60.0], [60, 10, 15, 15])[0],
            "on_expire": r.choice(["fail", "cancel"]),
            "retries": r.choice([None, None, 0, 1, 3]),
            "key": r.choices([None, "k1", "k2"], [80, 10, 10])[0]}
    return spec


def user(world, tab, what, call, detail):
    """Page code in ``tab`` awaits ``call()``; an injected store error is what a page
    would see and is fine, anything else is reported (a finding)."""
    world.trace.add(tab.name, what, str(detail)[:160])

    async def go():
        try:
            out = await call()
        except StorageError as exc:
            if not injected(exc):
                raise
            world.trace.add(tab.name, what + " failed", str(exc))
            return
        except KeyError:
            if what in ("cancel", "redrive", "get", "cancel+redrive") \
                    and detail in world.checker.purged:
                return
            raise
        if what in ("enqueue", "enqueue_many"):
            for one in (out if type(out) is list else [out]):
                if one.id not in world.known:
                    world.known.append(one.id)
                if one.id not in world.memory.jobs and one.id not in world.checker.purged:
                    world.checker.fail("no job lost", f"{tab.name} enqueue returned "
                                       f"{one.id}, which is not stored")
    tab.rt.spawn(go(), "page code: " + what)


# -- tabs --------------------------------------------------------------------------------------
def close(world, tab, crash):
    ctx = tab.ctx
    sched = world.sched
    if not crash and not ctx.frozen:
        sched.run_callable(ctx, lambda: tab.rt.fire_lifecycle("unload"))
    world.trace.add(tab.name, "crash" if crash else "close")
    sched.kill(ctx)
    world.origin.locks.drop(ctx)
    world.origin.channels.drop(ctx)


def freeze(world, tab):
    if not tab.ctx.hidden:
        hide(world, tab)   # browsers freeze background tabs
    world.trace.add(tab.name, "freeze")
    world.sched.freeze(tab.ctx)


def thaw(world, tab):
    world.trace.add(tab.name, "thaw")
    world.sched.thaw(tab.ctx)
    world.sched.run_callable(tab.ctx, lambda: tab.rt.fire_lifecycle("resume"))


def hide(world, tab):
    world.trace.add(tab.name, "hide")
    tab.ctx.hidden = True
    world.sched.run_callable(tab.ctx, lambda: tab.rt.fire_lifecycle("hidden"))


def show(world, tab):
    world.trace.add(tab.name, "show")
    world.sched.show(tab.ctx)
    world.sched.run_callable(tab.ctx, lambda: tab.rt.fire_lifecycle("visible"))


def wake_up(world, tab):
    """The user comes back to ``tab``: thawed and visible."""
    if tab.ctx.frozen:
        thaw(world, tab)
    if tab.ctx.hidden:
        show(world, tab)
